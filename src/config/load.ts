// Entry point of the configuration language: read (files, includes, conditionals,
// definitions), build the statement tree, apply the keyword tables of every top-level
// block, then validate across blocks. Never throws for bad input: the caller gets a
// model and every diagnostic, and decides by the worst.
import os from 'node:os';
import path from 'node:path';
import { readCluster } from '../cluster/config';
import { readVirtualServer, readVirtualServerGroup, newVirtualServerGroup, readVirtualServerKey } from '../ipvs/config';
import {
  newVrrpInstance,
  newVrrpScript,
  newVrrpSyncGroup,
  vrrpInstanceSpec,
  vrrpScriptSpec,
  vrrpSyncGroupSpec,
  vrrpTrackFileSpec,
  vrrpTrackProcessSpec,
  newVrrpTrackFile,
  newVrrpTrackProcess,
} from '../vrrp/config';
import type { SourcePos } from '../common/where';
import { nodeConfigFs, type ConfigFs } from './config-fs';
import { Diagnostics, promoteWarnings, sortDiagnostics, type Diagnostic } from './diagnostics';
import { globalDefsSpec, newGlobalDefs } from './global-defs';
import { applyBlock, type BlockSpec, type ParseContext } from './keywords';
import type { HadConfig } from './model';
import { readConfig } from './reader';
import type { Token } from './token';
import { buildTree, type Statement } from './tree';
import { validateConfig } from './validate';
import { listBlock } from './values';

export interface LoadOptions {
  /** This node's name; defaults to the short host name, as keepalived's config-id does. */
  readonly node?: string;
  readonly strict?: boolean;
  readonly fs?: ConfigFs;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface LoadResult {
  readonly config: HadConfig;
  /** In file order; with `strict`, warnings are already errors. */
  readonly diagnostics: Diagnostic[];
  readonly errorCount: number;
  readonly warningCount: number;
}

export function defaultNodeName(): string {
  return os.hostname().split('.')[0] ?? 'localhost';
}

export function loadConfig(file: string, options: LoadOptions = {}): LoadResult {
  const fs = options.fs ?? nodeConfigFs;
  const cwd = options.cwd ?? process.cwd();
  const node = options.node ?? defaultNodeName();
  const diags = new Diagnostics();
  const { tokens, files } = readConfig(file, { fs, node, cwd, env: options.env ?? process.env }, diags);
  const tree = buildTree(tokens, diags);
  const cx: ParseContext = { diags, node, fs, baseDir: path.dirname(path.resolve(cwd, file)) };
  const config: HadConfig = {
    node,
    files,
    global: newGlobalDefs(),
    vrrpScripts: [],
    vrrpTrackFiles: [],
    vrrpTrackProcesses: [],
    vrrpInstances: [],
    vrrpSyncGroups: [],
    virtualServerGroups: [],
    virtualServers: [],
  };
  // global_defs seeds instance defaults, so it goes first wherever it stands.
  const isGlobal = (s: Statement): boolean => s.keyword.text === 'global_defs';
  applyBlock(topLevelSpec, tree.filter(isGlobal), config, cx);
  applyBlock(topLevelSpec, tree.filter((s) => !isGlobal(s)), config, cx);
  validateConfig(config, cx);

  const list = sortDiagnostics(options.strict === true ? promoteWarnings(diags.list) : diags.list);
  return {
    config,
    diagnostics: list,
    errorCount: list.filter((d) => d.severity === 'error').length,
    warningCount: list.filter((d) => d.severity === 'warning').length,
  };
}

/** `KEYWORD NAME { ... }`: the name and block, or undefined (reported). */
function namedBlock(cx: ParseContext, s: Statement): { name: Token; block: Statement[] } | undefined {
  const name = s.args[0];
  if (name === undefined) {
    cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `'${s.keyword.text}' needs a name: ${s.keyword.text} NAME { ... }`, s.where);
    return undefined;
  }
  if (s.args.length > 1) cx.diags.warn('HAD_CFG_EXTRA_ARGUMENT', `${s.keyword.text}: '${(s.args[1] as Token).text}' ignored`, (s.args[1] as Token).where);
  return { name, block: listBlock(cx, { ...s, args: [] }) };
}

/** `KEYWORD NAME { ... }` read by a block's table into a new item, added to its list. */
function namedBlockOf<T extends { readonly name: string; readonly where: SourcePos }>(spec: BlockSpec<T>, make: (name: string, where: SourcePos, config: HadConfig) => T, list: (config: HadConfig) => T[]) {
  return (s: Statement, t: HadConfig, cx: ParseContext): void => {
    const b = namedBlock(cx, s);
    if (b === undefined) return;
    // keepalived keeps the first block of a name and skips the others.
    const first = list(t).find((other) => other.name === b.name.text);
    if (first !== undefined) {
      cx.diags.warn('HAD_CFG_DUPLICATE', `${s.keyword.text} '${b.name.text}' is already defined at ${first.where.file}:${first.where.line}:${first.where.col}: this one is skipped, as keepalived skips it`, s.where);
      return;
    }
    const item = make(b.name.text, s.where, t);
    applyBlock(spec, b.block, item, cx);
    list(t).push(item);
  };
}

const readTrackFile = namedBlockOf(vrrpTrackFileSpec, newVrrpTrackFile, (t) => t.vrrpTrackFiles);

const topLevelSpec: BlockSpec<HadConfig> = {
  name: 'top level',
  keywords: {
    global_defs: (s, t, cx) => applyBlock(globalDefsSpec, listBlock(cx, s), t.global, cx),
    vrrp_script: namedBlockOf(vrrpScriptSpec, newVrrpScript, (t) => t.vrrpScripts),
    vrrp_track_file: readTrackFile,
    // keepalived takes both spellings at the top level.
    track_file: readTrackFile,
    vrrp_track_process: namedBlockOf(vrrpTrackProcessSpec, newVrrpTrackProcess, (t) => t.vrrpTrackProcesses),
    vrrp_instance: namedBlockOf(vrrpInstanceSpec, (name, where, t) => newVrrpInstance(name, where, t.global), (t) => t.vrrpInstances),
    vrrp_sync_group: namedBlockOf(vrrpSyncGroupSpec, newVrrpSyncGroup, (t) => t.vrrpSyncGroups),
    virtual_server_group: (s, t, cx) => {
      const b = namedBlock(cx, s);
      if (b === undefined) return;
      const group = newVirtualServerGroup(b.name.text, s.where);
      readVirtualServerGroup(cx, { ...s, args: [] }, group);
      t.virtualServerGroups.push(group);
    },
    virtual_server: (s, t, cx) => {
      const block = listBlock(cx, { ...s, args: [] });
      const key = readVirtualServerKey(cx, s);
      if (key !== undefined) t.virtualServers.push(readVirtualServer(cx, s, key, block));
    },
    cluster: (s, t, cx) => {
      const block = listBlock(cx, s);
      if (t.cluster !== undefined) {
        cx.diags.error('HAD_CFG_DUPLICATE', `a second 'cluster' block (the first is at line ${t.cluster.where.line} of ${t.cluster.where.file})`, s.where);
        return;
      }
      t.cluster = readCluster({ ...cx, ownBlock: true }, s, block);
    },
  },
};

