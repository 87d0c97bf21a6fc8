// Preloaded by the npm scripts (`tsx --import ./scripts/node-support.ts ...`) and set by the test and
// CI configuration. Lambda runs these functions on nodejs22.x; the local tooling still runs on Node
// 20.19+, for which AWS SDK v3 prints a NodeVersionSupportWarning at the first client it builds
// (@aws-sdk/core emitWarningIfUnsupportedVersion: SDK releases after the first week of January 2027
// require Node 22). The SDK's documented switch, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true,
// silences it; it is set only on Node below 22, so on Node 22 nothing changes. Move to Node 22 (see
// .nvmrc) before the SDK drops Node 20.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
