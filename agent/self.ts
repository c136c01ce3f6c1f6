// How to start another copy of this very program (the demo starts daemons in
// its namespace hosts): the single executable runs alone, the bundle needs the
// runtime that is running it now.

interface DenoLike {
  execPath(): string;
}

export function selfCommand(): string[] {
  const script = process.argv[1];
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (deno) return script ? [deno.execPath(), 'run', '-A', script] : [deno.execPath()];
  // A Node single executable sets argv[1] to its own path.
  if (!script || script === process.execPath) return [process.execPath];
  return [process.execPath, script];
}
