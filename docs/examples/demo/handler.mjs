// Demo handler: called once per item as main(event, context); async works too
export async function main(event, context) {
  console.log(`hello from Node ${process.version}, ${event.name} (child ${context.workerId})`);
  if (event.n < 0) throw new RangeError(`n must not be negative, got ${event.n}`);
  return { name: event.name, sqrt: Math.sqrt(event.n) };
}
