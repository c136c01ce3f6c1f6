// Node-local bridge networks (`agent network create -d bridge`), as docker's
// local-scope networks: a Linux bridge on this host with its subnet, gateway,
// icc and masquerade options, kept in the state dir (`bridges.cbor`, 0600),
// never in the swarm's store. Their main use (seed: "Customize the
// docker_gwbridge interface") is to make `agent_gwbridge` by hand before the
// first endpoint, which the agent then uses as it is.
import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { ApiError, UsageError } from '../../shared/errors.js';
import type { Rand } from '../../shared/rand.js';
import type { NetworkCreateRequest } from '../api/types.js';
import { encodeBase36 } from '../cluster/ca/base36.js';
import type { SecretFileIo } from '../cluster/ca/secret-file.js';
import { decodeCbor, encodeCanonical } from '../cluster/store/cbor.js';
import type { Network } from '../cluster/store/types.js';
import { arrayOf, bool, FieldError, int, nonEmpty, obj, opt, recordOf, str } from '../cluster/store/validate.js';
import type { Plumbing } from '../datapath/plumbing.js';
import { resolveNetworkRef } from '../swarm/views.js';
import { allocateSubnet, checkUserPool, defaultGateway, IpamError } from './ipam.js';

const FILE = 'bridges.cbor';
const CONTEXT = 'agent/bridges';
const VERSION = 1;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
export const ICC_OPTION = 'com.docker.network.bridge.enable_icc';
export const MASQUERADE_OPTION = 'com.docker.network.bridge.enable_ip_masquerade';
const MTU_OPTION = 'com.docker.network.driver.mtu';
const ENCRYPTED_OPTION = 'encrypted';
/** docker's local pools start at 172.17.0.0/16; 172.17 (docker0) and 172.18 (the gwbridge) are left alone. */
const LOCAL_POOL = ['172.16.0.0/12'];
const LOCAL_RESERVED = ['172.17.0.0/16', '172.18.0.0/16'];
const LOCAL_SUBNET_SIZE = 16;

export interface LocalBridge {
  network: Omit<Network, 'meta'>;
  /** The Linux bridge device. */
  device: string;
  /** The nft table of its masquerade rule. */
  natTable: string;
  /** Whether the agent made the device (and so removes it). */
  created: boolean;
}

const check = obj({
  bridges: arrayOf(
    obj({
      network: obj({
        id: nonEmpty,
        name: nonEmpty,
        driver: nonEmpty,
        ipam: obj({ subnet: nonEmpty, gateway: nonEmpty, ipRange: opt(nonEmpty) }),
        options: recordOf(str),
        labels: recordOf(str),
        attachable: bool,
        ingress: bool,
        internal: bool,
        encrypted: bool,
        mtu: opt(int(68)),
        createdAtMs: opt(int(0)),
      }),
      device: nonEmpty,
      natTable: nonEmpty,
      created: bool,
    }),
  ),
});

function flagOf(options: Record<string, string>, key: string, dflt: boolean): boolean {
  const v = options[key];
  if (v === undefined || v === '') return dflt;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new UsageError(`--opt ${key}: expected true or false, got ${JSON.stringify(v)}`);
}

export class LocalNetworks {
  readonly #o: { stateDir: string; io: SecretFileIo; plumbing: Plumbing; rand: Rand; clock: Clock };
  #bridges: LocalBridge[] = [];

  constructor(o: { stateDir: string; io: SecretFileIo; plumbing: Plumbing; rand: Rand; clock: Clock }) {
    this.#o = o;
  }

  load(): void {
    const path = join(this.#o.stateDir, FILE);
    const f = this.#o.io.read(path);
    if (!f) return;
    try {
      const v = decodeCbor(f.bytes) as unknown[];
      if (!Array.isArray(v) || v[0] !== CONTEXT || v[1] !== VERSION) throw new Error('not a bridges file of this version');
      this.#bridges = (check(v[2], 'bridges') as { bridges: LocalBridge[] }).bridges;
    } catch (e) {
      throw new Error(`${path}: ${e instanceof FieldError ? e.message : (e as Error).message}`);
    }
  }

  list(): LocalBridge[] {
    return [...this.#bridges];
  }

  /** The bridge a reference names, or undefined (then it may be a swarm network). */
  find(ref: string): LocalBridge | undefined {
    const r = resolveNetworkRef(this.#bridges.map((b) => ({ ...b.network, meta: { version: 0, createdAtIndex: 0, updatedAtIndex: 0 } })), ref);
    return 'error' in r ? undefined : this.#bridges.find((b) => b.network.id === r.id);
  }

  byName(name: string): LocalBridge | undefined {
    return this.#bridges.find((b) => b.network.name === name);
  }

  async create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    const name = req.Name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw new UsageError(`invalid network name ${JSON.stringify(name)}: it must start with a letter or digit and hold only [a-zA-Z0-9_.-]`);
    if (this.byName(name)) throw new ApiError(`network with name ${name} already exists`, 409);
    if (req.Attachable || req.Ingress || req.Internal) {
      const flag = req.Ingress ? 'ingress' : req.Attachable ? 'attachable' : 'internal';
      throw new UsageError(`--${flag}: only for overlay networks (add -d overlay)`);
    }
    const options = { ...(req.Options ?? {}) };
    // A bridge never leaves the node, so it has nothing to encrypt; saying so beats a network the user believes is encrypted.
    if (ENCRYPTED_OPTION in options) throw new UsageError(`--opt ${ENCRYPTED_OPTION}: only for overlay networks (add -d overlay)`);
    const icc = flagOf(options, ICC_OPTION, true);
    const masquerade = flagOf(options, MASQUERADE_OPTION, true);
    const mtuText = options[MTU_OPTION];
    const mtu = mtuText === undefined || mtuText === '' ? undefined : Number(mtuText);
    if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) throw new UsageError(`--opt ${MTU_OPTION}: expected an integer MTU from 68 to 65535, got ${JSON.stringify(mtuText)}`);
    const pools = req.IPAM?.Config ?? [];
    if (pools.length > 1) throw new UsageError(`one IPAM pool per network is supported, got ${pools.length}`);
    const pool = pools[0] ?? {};
    const id = encodeBase36(this.#o.rand.bytes(16)).slice(0, 25);
    const device = options[BRIDGE_NAME_OPTION] || `br-${id.slice(0, 12)}`;
    if (this.#bridges.some((b) => b.device === device)) throw new ApiError(`bridge ${device} is already used by network ${this.#bridges.find((b) => b.device === device)!.network.name}`, 409);
    const taken = this.#bridges.map((b) => b.network.ipam.subnet);
    let ipam;
    try {
      ipam = pool.Subnet
        ? checkUserPool({ subnet: pool.Subnet, ...(pool.Gateway ? { gateway: pool.Gateway } : {}), ...(pool.IPRange ? { ipRange: pool.IPRange } : {}) }, taken)
        : (() => {
            const subnet = allocateSubnet(LOCAL_POOL, LOCAL_SUBNET_SIZE, [...taken, ...LOCAL_RESERVED]);
            return { subnet, gateway: defaultGateway(subnet) };
          })();
    } catch (e) {
      if (e instanceof IpamError) throw e.code === 'EOVERLAP' ? new ApiError(e.message, 409) : new UsageError(e.message);
      throw e;
    }
    const natTable = `agent_nat_${id.slice(0, 8)}`;
    const info = await this.#o.plumbing.ensureGwbridge({ name: device, subnet: ipam.subnet, gateway: ipam.gateway, icc, masquerade, natTable, ...(mtu !== undefined ? { mtu } : {}) });
    const b: LocalBridge = {
      network: {
        id,
        name,
        driver: 'bridge',
        // An existing device keeps its own addresses: show what it has.
        ipam: info.created ? ipam : { subnet: info.subnet, gateway: info.gateway },
        options,
        labels: { ...(req.Labels ?? {}) },
        attachable: false,
        ingress: false,
        internal: req.Internal ?? false,
        encrypted: false,
        ...(mtu !== undefined ? { mtu } : {}),
        createdAtMs: Math.floor(this.#o.clock.wallMs()),
      },
      device,
      natTable,
      created: info.created,
    };
    this.#bridges.push(b);
    this.#save();
    return { Id: id, Warning: '' };
  }

  /** inUse says why the bridge cannot go (endpoints on it), or undefined. */
  async remove(b: LocalBridge, inUse: string | undefined): Promise<void> {
    if (inUse !== undefined) throw new ApiError(`error while removing network: network ${b.network.name} id ${b.network.id} has active endpoints (${inUse})`, 409);
    await this.#o.plumbing.removeGwbridge({ ...(b.created ? { bridge: b.device } : {}), natTable: b.natTable });
    this.#bridges = this.#bridges.filter((x) => x !== b);
    this.#save();
  }

  #save(): void {
    this.#o.io.writeAtomic(join(this.#o.stateDir, FILE), encodeCanonical([CONTEXT, VERSION, { bridges: this.#bridges }]), 0o600);
  }
}

/** icc and masquerade of a bridge network, docker's defaults when unset. */
export function bridgeFlags(b: LocalBridge): { icc: boolean; masquerade: boolean } {
  return { icc: flagOf(b.network.options, ICC_OPTION, true), masquerade: flagOf(b.network.options, MASQUERADE_OPTION, true) };
}
