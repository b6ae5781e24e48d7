// The module a module task imports in each worker: imports, classes and module state work here
export class Cat {
  constructor(name) {
    this.name = name;
  }
  meow() {
    return `meow, my name is ${this.name}`;
  }
}

// the item is a plain copy of a Cat: make it one again
export function makeCatMeow(cat) {
  return Object.assign(new Cat(''), cat).meow();
}
