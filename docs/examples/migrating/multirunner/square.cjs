// A Node handler in multirunner's CommonJS form (.cjs: this repository's package.json says "type": "module")
module.exports = { main: (event) => event * event };
