#!/usr/bin/env node
// Runs the requests of one of upstream's Postman collections — the file as upstream ships
// it, unchanged on disk, with its own scripts and assertions — in an order we name, for a
// collection whose own flow cannot run: CCRS-Demo's scripts chain to requests by names it
// does not have ("PGR Create", "PGR Update (Assign)" …; its requests are "CCRS …"), so
// newman stops after its second request with nothing checked.
//
//   node scripts/postman-ordered-run.js COLLECTION ENVIRONMENT ORDER REPORT
//
// ORDER is JSON: {"why": "...", "order": ["request name", ...], "skipped": {"name": "why"}}.
// Each named request runs as a one-request newman run (so its setNextRequest cannot end the
// flow), carrying the collection variables and environment of the runs before it. Every
// request of the collection must be in `order` or `skipped`. Fails on any failed assertion,
// script error, request error or non-2xx answer; writes a JSON summary to REPORT.
'use strict';
const fs = require('fs');
const path = require('path');

const [collectionFile, environmentFile, orderFile, report] = process.argv.slice(2);
if (!report) {
  console.error('usage: postman-ordered-run.js COLLECTION ENVIRONMENT ORDER REPORT');
  process.exit(2);
}
const newman = require(path.join(process.env.NEWMAN_PREFIX || '', 'node_modules', 'newman'));
const collection = JSON.parse(fs.readFileSync(collectionFile, 'utf8'));
let environment = JSON.parse(fs.readFileSync(environmentFile, 'utf8'));
const plan = JSON.parse(fs.readFileSync(orderFile, 'utf8'));

const items = new Map();
(function walk(list) {
  for (const item of list) {
    if (item.item) walk(item.item);
    else items.set(item.name, item);
  }
})(collection.item);
const planned = new Set([...plan.order, ...Object.keys(plan.skipped || {})]);
const unplanned = [...items.keys()].filter((n) => !planned.has(n));
const unknown = [...planned].filter((n) => !items.has(n));
if (unplanned.length || unknown.length) {
  console.error(`[postman-ordered] ${orderFile}: not planned: ${unplanned.join(', ') || '-'}; ` +
    `not in the collection: ${unknown.join(', ') || '-'}`);
  process.exit(1);
}

let variables = collection.variable || [];
const results = [];

function runOne(name) {
  return new Promise((resolve, reject) => {
    const one = Object.assign({}, collection, {item: [items.get(name)], variable: variables});
    // The scripts' pm.collectionVariables / pm.environment changes live in the runtime's
    // state, not in the summary: take them from each script execution's result.
    const carry = (err, args) => {
      for (const execution of (args && args.executions) || []) {
        const r = execution.result || {};
        if (r.collectionVariables) {
          variables = r.collectionVariables.values.map((v) => ({key: v.key, value: v.value, type: v.type}));
        }
        if (r.environment) {
          environment = {values: r.environment.values.map((v) => ({key: v.key, value: v.value, enabled: true}))};
        }
      }
    };
    newman.run({collection: one, environment, reporters: ['cli'], timeoutRequest: 15000, color: 'off'},
      (err, summary) => {
        if (err) return reject(err);
        const s = summary.run.stats;
        results.push({
          name,
          status: (summary.run.executions[0] && summary.run.executions[0].response) ?
            summary.run.executions[0].response.code : null,
          assertions: s.assertions.total,
          assertionsFailed: s.assertions.failed,
          failures: summary.run.failures.map((f) => `${f.error.name}: ${f.error.message}`),
        });
        // Most of CCRS-Demo's requests assert nothing themselves: an error answer must fail too.
        const last = results[results.length - 1];
        if (!(last.status >= 200 && last.status < 300)) last.failures.push(`HTTP ${last.status}`);
        resolve();
      }).on('prerequest', carry).on('test', carry);
  });
}

(async () => {
  for (const name of plan.order) await runOne(name);
  const assertions = results.reduce((n, r) => n + r.assertions, 0);
  const failed = results.filter((r) => r.failures.length > 0);
  fs.writeFileSync(report, JSON.stringify({why: plan.why, skipped: plan.skipped, results}, null, 2));
  for (const r of results) {
    console.error(`[postman-ordered]   ${r.status} ${r.name}: ${r.assertions} assertion(s)` +
      (r.failures.length ? ` FAILED ${r.failures.join('; ')}` : ''));
  }
  console.error(`[postman-ordered] ${path.basename(collectionFile)} in order: requests ${results.length}, ` +
    `assertions ${assertions}, failed requests ${failed.length}, skipped ${Object.keys(plan.skipped || {}).length}`);
  process.exit(failed.length === 0 ? 0 : 1);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
