// Loaded with `node --import` by Instance.node(): makes 'polytask/child' resolve to the helper
// of this copy of polytask, wherever the child's code lives (or when it is given as a string).
import { register } from 'node:module';

register(new URL('./child-hooks.js', import.meta.url));
