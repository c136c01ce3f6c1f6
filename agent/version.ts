// The version is stamped in by the bundler (scripts/build.mjs defines
// AGENT_VERSION from package.json); unbundled test builds say "dev".
declare const AGENT_VERSION: string | undefined;

export const VERSION: string = typeof AGENT_VERSION === 'string' ? AGENT_VERSION : 'dev';

/** Which JavaScript runtime runs this process: the same bundle runs on Node and Deno. */
export function runtimeName(): string {
  const deno = (globalThis as { Deno?: { version?: { deno?: string } } }).Deno;
  if (deno?.version?.deno) return `deno ${deno.version.deno}`;
  return `node ${process.version}`;
}
