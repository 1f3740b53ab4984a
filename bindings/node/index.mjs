// ESM entry point: the same module as index.js.
import xchan from './index.js';

export default xchan;
export const {
  Chan, promiseChan, timeout, alts, altsSync, altsAsync, Op, go, xf, buffer, dropping, sliding, BufferSpec,
  Box, Tuple, tuple, CancelToken, XchanError, errors, codes, pipe, mult, tap, untap, untapAll, Mult, mix, Mix, merge, take, into,
  ontoChan, toChan, map, split, reduce, reduced, transduce, pub, sub, unsub, unsubAll, Pub,
  pipeline, pipelineBlocking, pipelineAsync, thread, ioThread, WorkerPool, setExecutorFactory,
  execute, setTaskErrorHook, inGo, shutdown,
  api, checkVersion, randomSeed, includeDir, version, coreVersion, native,
} = xchan;
