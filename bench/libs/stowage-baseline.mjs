// stowage as another checkout built it (`npm run bench -- --baseline <dir>`): the runner gives
// this library's processes that checkout's dist/ (STOWAGE_BENCH_DIST) and a snapshot of its
// native/*.node (NAPI_RS_NATIVE_LIBRARY_PATH), so a before/after comparison is measured in one
// run, interleaved round by round, under the same load.
export { open } from './stowage.mjs'
