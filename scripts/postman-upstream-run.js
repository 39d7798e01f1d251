#!/usr/bin/env node
// Runs one of upstream's Postman collections — the file as upstream ships it, unchanged on
// disk — against the suite with newman, for collections that hard-code their servers
// (`https://ifix-qa.ifix.org.in/…`, `http://localhost:8030/…`) and carry no assertions:
//
//   node scripts/postman-upstream-run.js COLLECTION EXPECTATIONS BASE_URL TOKEN REPORT
//
// In memory only, every request's scheme, host and port become BASE_URL (the path is kept),
// its Authorization header becomes `Bearer TOKEN` (the gateway's part: upstream's iFIX
// gateway authenticated the caller; the collections' own Keycloak tokens expired in 2021),
// and it gets a test: the HTTP status and error codes EXPECTATIONS (JSON: request name →
// {status, codes?, why}) names for it — what a drop-in replacement must answer to that
// request, with the reason. A request without an expectation fails the run, as does any
// failed assertion or request error. Writes the newman JSON report to REPORT.
'use strict';
const fs = require('fs');
const path = require('path');

const [collectionFile, expectationsFile, baseUrl, token, report] = process.argv.slice(2);
if (!report) {
  console.error('usage: postman-upstream-run.js COLLECTION EXPECTATIONS BASE_URL TOKEN REPORT');
  process.exit(2);
}
const newman = require(path.join(process.env.NEWMAN_PREFIX || '', 'node_modules', 'newman'));
const collection = JSON.parse(fs.readFileSync(collectionFile, 'utf8'));
const expectations = JSON.parse(fs.readFileSync(expectationsFile, 'utf8'));
const base = new URL(baseUrl);
const missing = [];

function retarget(request) {
  const url = typeof request.url === 'string' ? {raw: request.url} : request.url;
  let p = url.path;
  const rawQuery = (url.raw || '').includes('?') ? url.raw.slice(url.raw.indexOf('?') + 1) : '';
  if (!p) {
    // "localhost:8032/ifix-department-entity/…" (no scheme): the path is what follows the host.
    const raw = url.raw.replace(/^[a-z]+:\/\//i, '');
    p = raw.slice(raw.indexOf('/') + 1).split('?')[0].split('/');
  }
  // The query string stays as the collection has it.
  const query = url.query || (rawQuery ? rawQuery.split('&').map((kv) => {
    const i = kv.indexOf('=');
    return i < 0 ? {key: kv, value: null} : {key: kv.slice(0, i), value: kv.slice(i + 1)};
  }) : []);
  const qs = query.filter((q) => !q.disabled).map((q) => (q.value === null ? q.key : `${q.key}=${q.value}`)).join('&');
  request.url = {
    raw: `${base.protocol}//${base.host}/${p.join('/')}${qs ? '?' + qs : ''}`,
    protocol: base.protocol.replace(':', ''),
    host: base.hostname.split('.'),
    port: base.port,
    path: p,
    query,
  };
  // Their own auth settings (bearer "<token>") would override the header: none.
  request.auth = {type: 'noauth'};
  request.header = (request.header || []).filter((h) => h.key.toLowerCase() !== 'authorization');
  request.header.push({key: 'Authorization', value: `Bearer ${token}`});
  if (!request.header.some((h) => h.key.toLowerCase() === 'content-type')) {
    request.header.push({key: 'Content-Type', value: 'application/json'});
  }
}

function test(name, e) {
  const lines = [
    `pm.test(${JSON.stringify(`HTTP ${e.status} (${e.why})`)}, function () { pm.response.to.have.status(${e.status}); });`,
  ];
  if (e.codes) {
    lines.push(
      `pm.test(${JSON.stringify(`errors ${e.codes.join(', ')}`)}, function () {`,
      '  const codes = (pm.response.json().Errors || []).map(function (x) { return x.code; });',
      `  pm.expect(codes).to.eql(${JSON.stringify(e.codes)});`,
      '});');
  }
  if (e.found !== undefined) {
    lines.push(
      `pm.test(${JSON.stringify(`${e.found.key}: ${e.found.count} record(s)`)}, function () {`,
      `  pm.expect(pm.response.json()[${JSON.stringify(e.found.key)}].length).to.eql(${e.found.count});`,
      '});');
  }
  return {listen: 'test', script: {type: 'text/javascript', exec: lines}};
}

delete collection.auth;
(function walk(items) {
  for (const item of items) {
    if (item.item) {
      delete item.auth;
      walk(item.item);
      continue;
    }
    retarget(item.request);
    const e = expectations[item.name];
    if (!e) {
      missing.push(item.name);
      continue;
    }
    item.event = (item.event || []).filter((ev) => ev.listen !== 'test');
    item.event.push(test(item.name, e));
  }
})(collection.item);

if (missing.length) {
  console.error(`[postman-upstream] no expectation in ${expectationsFile} for: ${missing.join(', ')}`);
  process.exit(1);
}

newman.run({collection, reporters: ['cli', 'json'], reporter: {json: {export: report}}, timeoutRequest: 15000, color: 'off'},
  function (err, summary) {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    const s = summary.run.stats;
    const failures = summary.run.failures.length;
    console.error(`[postman-upstream] ${path.basename(collectionFile)}: requests ${s.requests.total}, ` +
      `assertions ${s.assertions.total}, failed ${s.assertions.failed}, failures ${failures}`);
    process.exit(failures === 0 ? 0 : 1);
  });
