import type { Command } from './command.js';
import type { VersionInfo } from '../api/types.js';
import { API_VERSION } from '../api/types.js';
import { VERSION, runtimeName } from '../version.js';
import { platform, arch } from 'node:os';
import { DaemonUnreachableError, oneLine } from '../../shared/errors.js';
import { wantsJson, withFormat } from './format.js';

interface Args {
  format?: string;
}

/** `agent version`: client and daemon versions, as `docker version` shows them. */
export const version: Command<Args> = {
  command: 'version',
  describe: 'Show the agent version information',
  group: 'Commands',
  builder: withFormat,
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const client: VersionInfo = { Version: VERSION, ApiVersion: API_VERSION, Os: platform(), Arch: arch(), Runtime: runtimeName() };
    let server: VersionInfo | undefined;
    let failure: unknown;
    try {
      server = await ctx.client().get<VersionInfo>('/version');
    } catch (e) {
      if (!(e instanceof DaemonUnreachableError)) throw e;
      failure = e;
    }
    if (json) {
      ctx.out(JSON.stringify({ Client: client, Server: server ?? null }) + '\n');
    } else {
      ctx.out(block('Client', client));
      if (server) ctx.out('\n' + block('Server', server));
    }
    if (failure) {
      ctx.err(`agent: ${oneLine(failure)}\n`);
      return 1;
    }
  },
};

function block(title: string, v: VersionInfo): string {
  return `${title}:\n Version:      ${v.Version}\n API version:  ${v.ApiVersion}\n Runtime:      ${v.Runtime}\n OS/Arch:      ${v.Os}/${v.Arch}\n`;
}
