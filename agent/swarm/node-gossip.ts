// A node's gossip plane as its assignments drive it (issue 5): started with
// the first keyring, joined through the managers' 7946, given each new
// keyring, rejoined when the managers change, stopped when the node leaves.
import type { Clock } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { DatagramTransport, StreamTransport } from '../../shared/transport/types.js';
import type { GossipReport, SwarmInfo } from '../api/types.js';
import type { Logger } from '../daemon/log.js';
import { GOSSIP_PORT, GossipNode } from '../gossip/gossip-node.js';
import type { NetworkDbConfig } from '../gossip/networkdb/index.js';
import type { SwimConfig } from '../gossip/swim/index.js';
import { parseAddr } from './addr-text.js';
import type { LocalSwarmState } from './local-state.js';
import type { Assignment } from './manager.js';

export interface NodeGossipOptions {
  udp: DatagramTransport;
  tcp: StreamTransport;
  clock: Clock;
  rand: Rand;
  log: Logger;
  swim: SwimConfig;
  networkDb: NetworkDbConfig;
  port?: number;
}

export class NodeGossip {
  readonly #o: NodeGossipOptions;
  #node: GossipNode | undefined;
  #seeds = '';

  constructor(o: NodeGossipOptions) {
    this.#o = o;
  }

  /** Running, once the first assignment brought a keyring. */
  get node(): GossipNode | undefined {
    return this.#node;
  }

  /** Start with the first keyring; later assignments bring new keys and seeds. */
  async sync(st: LocalSwarmState, a: Assignment): Promise<void> {
    if (a.gossipKeys.length === 0) return;
    const port = this.#o.port ?? GOSSIP_PORT;
    const seeds = a.managers.filter((m) => m.id !== st.nodeId).map((m) => `${parseAddr(m.addr).host}:${port}`).sort();
    const key = seeds.join(',');
    if (this.#node) {
      this.#node.setKeys(a.gossipKeys);
      if (key !== this.#seeds) this.#node.rejoin(seeds);
      this.#seeds = key;
      return;
    }
    this.#seeds = key;
    const o = this.#o;
    this.#node = await GossipNode.start(
      {
        nodeId: st.nodeId,
        advertiseHost: parseAddr(st.advertiseAddr).host,
        bindHost: parseAddr(st.listenAddr).host,
        port,
        udp: o.udp,
        tcp: o.tcp,
        clock: o.clock,
        rand: o.rand,
        keys: a.gossipKeys,
        swim: o.swim,
        networkDb: o.networkDb,
        log: o.log,
      },
      seeds,
    );
    o.log.info('gossip started', { addr: this.#node.addr, seeds: key, keys: a.gossipKeys.map((k) => k.generation).join(',') });
  }

  /** Say goodbye and close the sockets. */
  async stop(): Promise<void> {
    const g = this.#node;
    this.#node = undefined;
    this.#seeds = '';
    await g?.close();
  }

  /** What the heartbeats say of this plane (NodeInspect.Gossip on the managers), when running. */
  report(): GossipReport | undefined {
    const g = this.#node;
    if (!g) return undefined;
    const count = (state: string) => g.members().filter((m) => m.state === state).length;
    const d = g.ring.drops;
    return {
      alive: count('alive'),
      suspect: count('suspect'),
      dead: count('dead'),
      probeFailures: g.swim.stats().probeFailures,
      keyGenerations: [...g.ring.generations],
      dropped: d.unknownKey + d.badTag + d.tooShort + d.badVersion + g.stats.malformed + g.swim.stats().malformed + g.db.stats().malformed,
    };
  }

  /** `Swarm.Gossip` of /info, when running. */
  info(): SwarmInfo['Gossip'] {
    const g = this.#node;
    if (!g) return undefined;
    return {
      Addr: g.addr,
      Members: g.members().map((x) => ({ NodeID: x.id, Addr: x.addr, State: x.state, Incarnation: x.incarnation })),
      KeyGenerations: [...g.ring.generations],
      Dropped: { ...g.ring.drops, Malformed: g.stats.malformed + g.swim.stats().malformed + g.db.stats().malformed },
    };
  }
}
