// osls loads a local plugin with require() or import(), neither of which reads TypeScript on Node 20:
// this loader runs parameter-check.ts through tsx (as the npm scripts do) from each hook.
// No top-level await: require() of an ES module (Node 20.19+) refuses one.
import { tsImport } from 'tsx/esm/api';

const HOOKS = [
  'before:package:initialize',
  // A deploy of an earlier package (`sls deploy --package dir`) skips packaging: checked here too.
  'before:deploy:deploy',
  'before:deploy:function:initialize',
];

export default class ParameterCheckPlugin {
  constructor(serverless, _options, utils) {
    // Loaded at the first hook only: other commands (`sls invoke local`) never pay for it.
    let loaded;
    const check = async () => {
      loaded ??= tsImport('./parameter-check.ts', import.meta.url).then(
        ({ ParameterCheck }) => new ParameterCheck(serverless, utils),
      );
      (await loaded).check();
    };
    this.hooks = Object.fromEntries(HOOKS.map((name) => [name, check]));
  }
}
