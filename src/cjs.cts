// What `require('polytask')` loads on a Node that cannot require() an ES module (before 20.19
// and 22.12, which match the `module-sync` export condition and load the ES module instead)
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
throw Object.assign(new Error(
  `polytask is an ES module: require('polytask') needs Node 20.19 or later (22.12 or later on Node 22); ` +
  `this is Node ${process.versions.node}${major < 20 || (major === 20 && minor < 19) || (major === 22 && minor < 12) ? '' : ' started with --no-experimental-require-module'}. ` +
  `Use import('polytask') or upgrade Node.`,
), { code: 'ERR_REQUIRE_ESM' });
