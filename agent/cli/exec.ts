import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import type { Command } from './command.js';
import type { ContainerInspect } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { CMD_PARSING, commandOf, containerPath } from './container-ref.js';

interface Args {
  container: string;
  cmd?: (string | number)[];
  '--'?: (string | number)[];
}

/**
 * `agent exec NAME -- CMD`: run CMD inside the endpoint's network namespace
 * (and a task's UTS namespace, so `hostname` is the task's, as docker exec
 * gives) and exit with its code. The daemon only names the namespace and the
 * process group; the command runs here, as this user (root: entering a netns
 * needs it), with this terminal's stdin.
 */
export const exec: Command<Args> = {
  command: 'exec <container> [cmd..]',
  group: 'Common Commands',
  describe: 'Run a command in a running endpoint',
  builder: (y) =>
    y
      .parserConfiguration(CMD_PARSING)
      .positional('container', { type: 'string', describe: 'An endpoint name, id or id prefix' })
      .positional('cmd', { type: 'string', array: true, describe: 'The command and its arguments (after --)' }),
  async run(args, ctx) {
    const cmd = commandOf(args);
    if (cmd.length === 0) throw new UsageError('exec: a command is required, e.g. agent exec NAME -- ip addr');
    const c = await ctx.client().get<ContainerInspect>(containerPath(args.container, '/json'));
    if (c.State !== 'running') throw new Error(`container ${c.Name} is not running`);
    return new Promise<number>((resolve, reject) => {
      const uts = c.Pid > 0 ? utsNamespaceOf(c.Pid, procTable()) : undefined;
      const argv = ['netns', 'exec', c.Netns, ...(uts !== undefined ? ['nsenter', `--uts=${uts}`, '--'] : []), ...cmd];
      const child = spawn('ip', argv, { stdio: ['inherit', 'pipe', 'pipe'] });
      child.stdout.setEncoding('utf8').on('data', (d: string) => ctx.out(d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => ctx.err(d));
      child.once('error', (e) => reject(new Error(`exec: could not run ip netns exec: ${e.message}`)));
      child.once('close', (code, signal) => resolve(exitStatus(code, signal)));
    });
  },
};

/** One process as /proc shows it: its process group and the UTS namespace it is in (`uts:[N]`). */
export interface ProcEntry {
  pid: number;
  pgrp: number;
  uts: string;
}

/**
 * The UTS namespace of an endpoint's process group `pgid` when it has one of
 * its own (a task: its wrapper stays in the host's, the command runs in a new
 * one); undefined for a standalone endpoint, whose group shares ours.
 */
export function utsNamespaceOf(pgid: number, procs: { self: string; entries: readonly ProcEntry[] }): string | undefined {
  const own = procs.entries.find((e) => e.pgrp === pgid && e.uts !== procs.self);
  return own === undefined ? undefined : `/proc/${own.pid}/ns/uts`;
}

/** This machine's processes (those that vanish while read are skipped). */
function procTable(): { self: string; entries: ProcEntry[] } {
  const entries: ProcEntry[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // After "pid (comm) ": state, ppid, pgrp; comm may hold spaces and parentheses, so read from the last ')'.
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      entries.push({ pid: Number(d), pgrp, uts: readlinkSync(`/proc/${d}/ns/uts`) });
    } catch {
      // Gone meanwhile.
    }
  }
  return { self: readlinkSync('/proc/self/ns/uts'), entries };
}

/** A child's exit as a shell reports it: its code, or 128 + the number of the signal that ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal ? 128 + (constants.signals[signal] ?? 15) : 1;
}
