#!/usr/bin/env node
// Reads ava's TAP output on stdin, echoes it, and ends with the line CI reads: "N passed, N failed".
// Exits non-zero when a test failed or the TAP stream shows no plan (ava crashed).
import { createInterface } from 'node:readline';

let pass = 0, fail = 0, skip = 0, todo = 0, sawPlan = false;
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  process.stdout.write(line + '\n');
  if (/^ok \d+/.test(line)) {
    if (/# SKIP/i.test(line)) skip++;
    else if (/# TODO/i.test(line)) todo++;
    else pass++;
  } else if (/^not ok \d+/.test(line)) {
    if (/# TODO/i.test(line)) todo++;
    else fail++;
  } else if (/^1\.\.\d+/.test(line)) sawPlan = true;
});
rl.on('close', () => {
  if (!sawPlan) fail++;
  process.stdout.write(`\n${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}\n`);
  process.exit(fail > 0 ? 1 : 0);
});
