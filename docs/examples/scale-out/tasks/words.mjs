// A module task for `polytask worker --module-root tasks`
export function shout(word) {
  return `${word.toUpperCase()}!`;
}
