// The futures benchmark's work for tinypool and piscina (both call the default export): the
// same as polytask's `task((x) => x + 1)`.
export default (x) => x + 1;
