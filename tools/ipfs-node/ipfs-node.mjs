#!/usr/bin/env node
// An offline IPFS node on loopback for daofed's tests and demos.
//
// It is js-ipfs (ipfs-core 0.18.1) with js-ipfs's own Kubo-compatible RPC API
// (ipfs-http-server 0.15.1): the same code `jsipfs daemon` runs, minus the parts
// daofed has no use for (libp2p swarm, gateway, gRPC, preload). The core is never
// "started", so there is no network at all: a block that is not in the repo is
// reported missing at once instead of being wanted from peers forever.
//
//   node ipfs-node.mjs --repo DIR [--api-port PORT] [--stop-on-stdin-close]
//
// Prints one line `ipfs-node ready api=http://127.0.0.1:PORT ...` on stdout when the
// API answers; SIGTERM/SIGINT stop it cleanly (repo lock released, blocks flushed).
// With --stop-on-stdin-close it also stops when its stdin closes, which is how a parent
// that gave it a pipe makes sure the node dies with it, even when the parent is killed.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { create } from 'ipfs-core'
import { HttpApi } from 'ipfs-http-server'

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string' },
    'api-port': { type: 'string', default: '0' },
    'stop-on-stdin-close': { type: 'boolean', default: false }
  }
})
if (!args.repo) {
  console.error('usage: ipfs-node.mjs --repo DIR [--api-port PORT] [--stop-on-stdin-close]')
  process.exit(2)
}
const port = Number.parseInt(args['api-port'], 10)

// Applied on every start (ipfs-core merges it into an existing repo's config too), so a
// repo made by an older run cannot bring back a gateway, swarm or RPC listener.
const config = {
  Addresses: {
    API: `/ip4/127.0.0.1/tcp/${port}`,
    Gateway: '',
    RPC: '',
    Swarm: [],
    Announce: [],
    NoAnnounce: [],
    Delegates: []
  },
  Bootstrap: [],
  Discovery: { MDNS: { Enabled: false }, webRTCStar: { Enabled: false } },
  Pubsub: { Enabled: false }
}

// js-ipfs locks the repo with a lock directory that only goes stale after 20 s, so a node
// killed with SIGKILL would block a restart for that long. Kubo's lock dies with its
// process; do the same by remembering our pid and clearing a lock whose owner is gone.
const pidFile = join(args.repo, 'ipfs-node.pid')
clearStaleLock()

const ipfs = await create({
  repo: args.repo,
  init: { emptyRepo: true },
  start: false,
  offline: true,
  silent: true,
  preload: { enabled: false },
  repoAutoMigrate: false,
  config
})

const api = new HttpApi(ipfs)
await api.start()
for (const server of api._apiServers) {
  server.ext('onRequest', kuboCidBase)
  server.ext('onPreResponse', kuboNotFound)
}

writeFileSync(pidFile, `${process.pid}\n`)

const { version } = await ipfs.version()
const { address, port: bound } = api._apiServers[0].info
console.log(`ipfs-node ready api=http://${address}:${bound} kind=js-ipfs version=${version}`)

let stopping = false
async function shutdown (signal) {
  if (stopping) return
  stopping = true
  try {
    await api.stop()
    await ipfs.stop()
    rmSync(pidFile, { force: true })
  } catch (err) {
    console.error(`ipfs-node: error while stopping on ${signal}: ${err.message}`)
    process.exit(1)
  }
  process.exit(0)
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
if (args['stop-on-stdin-close']) {
  process.stdin.on('close', () => shutdown('stdin close'))
  process.stdin.resume()
}

function clearStaleLock () {
  let owner
  try {
    owner = Number.parseInt(readFileSync(pidFile, 'utf8'), 10)
  } catch {
    return // no node ever ran here, or the last one stopped cleanly
  }
  if (isAlive(owner)) return // a live node holds it: let ipfs-repo say so
  rmSync(join(args.repo, 'repo.lock'), { recursive: true, force: true })
  rmSync(pidFile, { force: true })
}

function isAlive (pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

// Kubo prints CIDv1 in base32 (bafy..., bafk...), js-ipfs in base58btc (zb2...,
// zdj...) unless told otherwise. Ask js-ipfs for base32 where Kubo would use it, so
// callers see the same strings from either node. CIDv0 can only be base58btc.
function kuboCidBase (request, h) {
  const query = request.url.searchParams
  if (query.has('cid-base') || !request.path.startsWith('/api/v0/')) return h.continue
  const v1Add = request.path === '/api/v0/add' && query.get('cid-version') === '1'
  const v1Pin = request.path.startsWith('/api/v0/pin/') && (query.get('arg') ?? '').startsWith('b')
  if (v1Add || v1Pin) {
    const url = new URL(request.url)
    url.searchParams.set('cid-base', 'base32')
    request.setUrl(url.pathname + url.search)
  }
  return h.continue
}

// A block missing from the repo surfaces in js-ipfs as the blockstore's ENOENT (with a
// path inside the repo). Kubo offline answers the same HTTP 500 with "block was not found
// locally (offline)"; use its words so a client can tell "missing" from "broken" alike.
// This runs after js-ipfs's own error handler has turned the error into Kubo's JSON.
function kuboNotFound (request, h) {
  const body = request.response?.source
  if (body?.Type === 'error' && /ENOENT|not found/i.test(body.Message ?? '')) {
    const arg = request.url.searchParams.get('arg') ?? ''
    body.Message = `block was not found locally (offline): ipld: could not find ${arg}`
  }
  return h.continue
}
