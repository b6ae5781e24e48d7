// The async benchmark's work for piscina (it calls the default export): the same as polytask's
// `task(async (ms) => ...)`, a call that waits `ms` and returns it.
export default (ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms));
