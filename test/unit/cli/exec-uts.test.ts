// agent exec enters a task's UTS namespace (its hostname), found through the
// endpoint's process group; a standalone endpoint's group shares ours.
import { suite, is } from '../../harness.js';
import { utsNamespaceOf } from '../../../agent/cli/exec.js';

const t = suite('cli/exec-uts');
const HOST = 'uts:[4026531838]';

t("a task's group: the member in a namespace of its own names it; the wrapper, in ours, does not", () => {
  const entries = [
    { pid: 1, pgrp: 1, uts: HOST },
    { pid: 700, pgrp: 700, uts: HOST }, // the wrapper (sh), group leader
    { pid: 701, pgrp: 700, uts: HOST }, // ip netns exec, on its way
    { pid: 702, pgrp: 700, uts: 'uts:[4026532999]' }, // the command after unshare --uts
    { pid: 900, pgrp: 900, uts: 'uts:[4026533000]' }, // another task
  ];
  is(utsNamespaceOf(700, { self: HOST, entries }), '/proc/702/ns/uts');
});

t('a standalone endpoint (its group in ours), or a group that is gone: none', () => {
  const entries = [
    { pid: 800, pgrp: 800, uts: HOST },
    { pid: 801, pgrp: 800, uts: HOST },
  ];
  is(utsNamespaceOf(800, { self: HOST, entries }), undefined);
  is(utsNamespaceOf(12345, { self: HOST, entries }), undefined);
});

t.run();
