// The module resolve hook registered by child-register.ts
const childUrl = new URL('./child.js', import.meta.url).href;

type Resolve = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, nextResolve: Resolve): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'polytask/child') return { url: childUrl, shortCircuit: true };
  return nextResolve(specifier, context);
}
