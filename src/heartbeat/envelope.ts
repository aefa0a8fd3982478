// The cluster envelope on the wire: protobuf bytes (src/heartbeat/cluster.proto is the
// source of truth) followed by an HMAC-SHA256 tag over them, keyed with the cluster key.
// Encoding never fails for a well-formed message; decoding never throws: a datagram is
// either an envelope or a reason to drop it.
import crypto from 'node:crypto';
import path from 'node:path';
import protobuf from 'protobufjs';
import { syncFromWire, syncToWire, type SyncBody } from '../sync/wire';
import type { FenceMark } from '../fencing/coordinator';
import { isCount, nameMaxChars, wireCount } from './wire-values';

export const protocolVersion = 1;
export const tagBytes = 32;
/** The largest UDP payload over IPv4. */
export const datagramMaxBytes = 65_507;
export const hearsMax = 64;

const protoFile = path.resolve(__dirname, '..', '..', '..', 'src', 'heartbeat', 'cluster.proto');
const root = protobuf.loadSync(protoFile);
const EnvelopeType = root.lookupType('hadirector.cluster.Envelope');
const HeartbeatType = root.lookupType('hadirector.cluster.Heartbeat');
const AdvertType = root.lookupType('hadirector.cluster.Advert');
const toObjectOptions: protobuf.IConversionOptions = { longs: Number, defaults: true, arrays: true };

export interface HeartbeatBody {
  readonly link: string;
  /** The peer it is for. */
  readonly to: string;
  readonly echoOriginWallUs: number;
  readonly echoReceiveWallUs: number;
  readonly hears: readonly string[];
  readonly viewId: number;
  readonly uptimeMs: number;
  /** How long before sending the sender last heard each node it has heard. */
  readonly heard: readonly Heard[];
  /** The VRRP instances the sender is MASTER of. */
  readonly holds: readonly string[];
  /** The instances the sender would preempt, as a backup, with its priority. */
  readonly wants: readonly Want[];
  /** What the sender is fencing, or fenced. */
  readonly fences: readonly FenceMark[];
  /** The directors the sender heard leave cleanly, in the run they left. */
  readonly left: readonly Departure[];
}

export interface Departure {
  readonly node: string;
  readonly epoch: number;
}

export interface Want {
  readonly instance: string;
  readonly priority: number;
  readonly address: string;
  /** The holder the sender is ready to take it from; empty when it saw none holding. */
  readonly from: string;
}

export interface Heard {
  readonly node: string;
  readonly agoMs: number;
}

export interface AdvertBody {
  readonly instance: string;
  readonly priority: number;
  readonly advertIntervalMs: number;
  readonly address: string;
}

/** VRRPv3 goes down to 10 ms; v2 up to 255 s. */
export const advertIntervalRangeMs = { min: 10, max: 255_000 } as const;

export interface Envelope {
  readonly version: number;
  readonly clusterId: string;
  readonly sender: string;
  readonly bootEpoch: number;
  readonly sequence: number;
  readonly sentWallUs: number;
  readonly heartbeat?: HeartbeatBody;
  readonly advert?: AdvertBody;
  readonly sync?: SyncBody;
  /** The sender is stopping cleanly: it holds nothing and sends nothing more in this epoch. */
  readonly leave?: Record<string, never>;
}

/** The cluster key, or null with `auth none` (then no tag is sent or expected). */
export type ClusterKey = Buffer | null;

function tag(key: Buffer, bytes: Uint8Array): Buffer {
  return crypto.createHmac('sha256', key).update(bytes).digest();
}

const fenceStates = ['fencing', 'fenced'] as const;

export function encodeEnvelope(envelope: Envelope, key: ClusterKey): Buffer {
  const hb = envelope.heartbeat;
  const object =
    envelope.sync !== undefined
      ? { ...envelope, sync: syncToWire(envelope.sync) }
      : hb !== undefined && hb.fences.length > 0
        ? { ...envelope, heartbeat: { ...hb, fences: hb.fences.map((f) => ({ node: f.node, epoch: f.epoch, state: fenceStates.indexOf(f.state), ...(f.agoMs !== undefined ? { agoMs: f.agoMs } : {}) })) } }
        : envelope;
  // Our own objects already have the message's shape (enums as numbers): no fromObject
  // conversion, which would copy every nested message first.
  const bytes = EnvelopeType.encode(object).finish();
  return key === null ? Buffer.from(bytes) : Buffer.concat([bytes, tag(key, bytes)]);
}

export type DecodeFailure = 'oversize' | 'short' | 'bad-tag' | 'malformed';

/** The envelope in a datagram, checked for authenticity and shape only. */
export function decodeEnvelope(datagram: Uint8Array, key: ClusterKey): Envelope | DecodeFailure {
  if (datagram.length > datagramMaxBytes) return 'oversize';
  const tagLength = key === null ? 0 : tagBytes;
  if (datagram.length <= tagLength) return 'short';
  const bytes = datagram.subarray(0, datagram.length - tagLength);
  if (key !== null) {
    const expected = tag(key, bytes);
    const got = datagram.subarray(datagram.length - tagBytes);
    if (!crypto.timingSafeEqual(expected, got)) return 'bad-tag';
  }
  let decoded: Record<string, unknown>;
  try {
    decoded = EnvelopeType.decode(bytes) as unknown as Record<string, unknown>;
  } catch {
    return 'malformed';
  }
  return shape(decoded) ?? 'malformed';
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= nameMaxChars;

function isHeard(v: unknown): v is Heard {
  if (typeof v !== 'object' || v === null) return false;
  const x = v as Record<string, unknown>;
  return isName(x['node']) && isCount(x['agoMs']) && (x['agoMs'] as number) <= 0xffffffff;
}

function fenceMark(v: unknown): FenceMark | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const f = v as Record<string, unknown>;
  const state = fenceStates[f['state'] as number];
  if (!isName(f['node']) || !isCount(f['epoch']) || state === undefined) return undefined;
  const ago = f['agoMs'];
  if (ago === undefined || ago === 0 || state !== 'fenced') return { node: f['node'], epoch: f['epoch'], state };
  return isCount(ago) && ago <= 0xffffffff ? { node: f['node'], epoch: f['epoch'], state, agoMs: ago } : undefined;
}

function isDeparture(v: unknown): v is Departure {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return isName(d['node']) && isCount(d['epoch']);
}

function isWant(v: unknown): v is Want {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return isName(w['instance']) && isName(w['address']) && isCount(w['priority']) && (w['priority'] as number) <= 255 && (w['from'] === '' || isName(w['from']));
}

/**
 * A decoded message as an Envelope, or undefined when a field is out of its bounds. Sync
 * bodies (thousands of entries a second) are read as decoded; the others are converted
 * to plain objects first.
 */
function shape(o: Record<string, unknown>): Envelope | undefined {
  const { version, clusterId, sender } = o;
  const [bootEpoch, sequence, sentWallUs] = [wireCount(o['bootEpoch']), wireCount(o['sequence']), wireCount(o['sentWallUs'])];
  if (!isCount(version) || !isName(clusterId) || !isName(sender) || bootEpoch === undefined || sequence === undefined || sentWallUs === undefined) return undefined;
  const envelope = { version, clusterId, sender, bootEpoch, sequence, sentWallUs };
  const sync = o['sync'];
  if (sync !== undefined && sync !== null) {
    const body = syncFromWire(sync);
    return body === undefined ? undefined : { ...envelope, sync: body };
  }
  if (o['advert'] !== undefined && o['advert'] !== null) {
    const a = AdvertType.toObject(o['advert'] as protobuf.Message, toObjectOptions);
    const interval = a['advertIntervalMs'];
    const priority = a['priority'];
    if (!isName(a['instance']) || !isName(a['address']) || !isCount(priority) || priority > 255 || !isCount(interval) || interval < advertIntervalRangeMs.min || interval > advertIntervalRangeMs.max) {
      return undefined;
    }
    return { ...envelope, advert: { instance: a['instance'], priority, advertIntervalMs: interval, address: a['address'] } };
  }
  if (o['leave'] !== undefined && o['leave'] !== null) return { ...envelope, leave: {} };
  if (o['heartbeat'] === undefined || o['heartbeat'] === null) return envelope;
  const h = HeartbeatType.toObject(o['heartbeat'] as protobuf.Message, toObjectOptions);
  const hears = h['hears'];
  if (
    !isName(h['link']) ||
    !isName(h['to']) ||
    !isCount(h['echoOriginWallUs']) ||
    !isCount(h['echoReceiveWallUs']) ||
    !isCount(h['viewId']) ||
    !isCount(h['uptimeMs']) ||
    !Array.isArray(h['heard']) ||
    (h['heard'] as unknown[]).length > hearsMax ||
    !(h['heard'] as unknown[]).every(isHeard) ||
    !Array.isArray(h['holds']) ||
    (h['holds'] as unknown[]).length > hearsMax ||
    !(h['holds'] as unknown[]).every(isName) ||
    !Array.isArray(h['wants']) ||
    (h['wants'] as unknown[]).length > hearsMax ||
    !(h['wants'] as unknown[]).every(isWant) ||
    !Array.isArray(h['fences']) ||
    (h['fences'] as unknown[]).length > hearsMax ||
    !Array.isArray(h['left']) ||
    (h['left'] as unknown[]).length > hearsMax ||
    !(h['left'] as unknown[]).every(isDeparture) ||
    !Array.isArray(hears) ||
    hears.length > hearsMax ||
    !hears.every(isName)
  ) {
    return undefined;
  }
  const fences = (h['fences'] as unknown[]).map(fenceMark);
  if (!fences.every((f): f is FenceMark => f !== undefined)) return undefined;
  return {
    ...envelope,
    heartbeat: {
      link: h['link'],
      to: h['to'],
      echoOriginWallUs: h['echoOriginWallUs'],
      echoReceiveWallUs: h['echoReceiveWallUs'],
      hears,
      viewId: h['viewId'],
      uptimeMs: h['uptimeMs'],
      heard: (h['heard'] as Heard[]).map((x) => ({ node: x.node, agoMs: x.agoMs })),
      holds: h['holds'] as string[],
      wants: (h['wants'] as Want[]).map((w) => ({ instance: w.instance, priority: w.priority, address: w.address, from: w.from })),
      fences,
      left: (h['left'] as Departure[]).map((d) => ({ node: d.node, epoch: d.epoch })),
    },
  };
}
