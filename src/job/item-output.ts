// What SynchronousJob shows of an item: its handler's output as it ends, and a short preview
import type { ItemResult } from '../pool/items.js';

// Writes what an item's handler printed to this process's stdout and stderr (without the
// traceback the handler appends to a failed item's stderr: the error carries it)
export function forwardOutput(result: ItemResult | undefined): void {
  if (result === undefined) return;
  if (result.stdout) process.stdout.write(result.stdout);
  let stderr = result.stderr ?? '';
  const stack = result.error?.stack;
  if (stack) {
    for (const tail of [stack, `${stack}\n`]) {
      if (stderr.endsWith(tail)) {
        stderr = stderr.slice(0, -tail.length);
        break;
      }
    }
  }
  if (stderr) process.stderr.write(stderr);
}

// An item as a short line for a log message
export function preview(item: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(item) ?? String(item);
  } catch {
    text = String(item);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
