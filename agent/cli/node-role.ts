// The shared half of `node promote` and `node demote`: set Role on each node
// that does not have it yet, with docker's messages.
import type { Ctx } from './command.js';
import type { NodeRoleName, NodeUpdateRequest } from '../api/types.js';
import { eachNode, getNode, nodePath } from './node-ref.js';

export async function setRole(ctx: Ctx, refs: readonly string[], role: NodeRoleName, done: (ref: string) => string): Promise<void> {
  const client = ctx.client();
  await eachNode(refs, async (ref) => {
    const n = await getNode(client, ref);
    if (n.Spec.Role === role) return void ctx.out(`Node ${n.ID} is already a ${role}.\n`);
    const body: NodeUpdateRequest = { Role: role };
    await client.post(`${nodePath(n.ID)}/update?version=${n.Version.Index}`, body);
    ctx.out(done(ref));
  });
}
