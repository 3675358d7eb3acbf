/**
 * The dependency rule `npm run lint` enforces (dependency-cruiser). The folders of src/ are the stages of a run, from
 * the entry points down to the leaves; an import may only point down this list, never up, and never in a circle.
 */
const LAYERS = [
  'cli',
  'web',
  'handler',
  'act',
  'config',
  'plan',
  'notify',
  'render',
  'detect',
  'state',
  'acr',
  'model',
  'lib',
];

// The CLI is an entry point like src/index.ts: nothing is above it.
const layerRules = LAYERS.slice(1).map((layer, n) => ({
  name: `${layer}-not-up`,
  comment: `src/${layer}/ may import only the stages below it: ${LAYERS.slice(n + 2).join(', ') || 'none'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(index\\.ts$|(${LAYERS.slice(0, n + 1).join('|')})/)` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import circles tie stages together: a change to one moves them all.',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'model-is-a-leaf',
      severity: 'error',
      comment: 'model/ holds the shared words every stage may use; it imports nothing of ours.',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: '^src/model/' },
    },
    {
      name: 'render-not-detect',
      severity: 'error',
      comment:
        'render/ words what plan/ decided; it must not reach past it into how failures are found. What an issue ' +
        'means (model/issue.ts) and how a TaskIssue is matched to one (model/classify.ts) are shared words in model/.',
      from: { path: '^src/render/' },
      to: { path: '^src/detect/' },
    },
    {
      name: 'lib-is-a-leaf',
      severity: 'error',
      comment: 'lib/ is plumbing (retry, budget, errors, log, secret, time); it knows nothing of the product.',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'sim-stands-alone',
      severity: 'error',
      comment: 'The local servers are a development tool: they do not depend on the product they stand in for.',
      from: { path: '^src/sim/' },
      to: { path: '^src/', pathNot: '^src/sim/' },
    },
    {
      name: 'sim-only-for-the-demo',
      severity: 'error',
      comment:
        'Only the demo imports the simulator statically; other CLI commands load it on demand; nothing deployed touches it.',
      from: { path: '^src/', pathNot: '^src/(sim/|cli/demo\\.ts$)' },
      to: { path: '^src/sim/', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'sim-never-in-the-run',
      severity: 'error',
      comment: 'Not even a dynamic import of the simulator outside the CLI.',
      from: { path: '^src/', pathNot: '^src/(sim|cli)/' },
      to: { path: '^src/sim/' },
    },
    {
      name: 'entry-only-from-cli',
      severity: 'error',
      comment: 'src/index.ts is the Function Compute entry; only the CLI (the demo) calls it.',
      from: { path: '^src/', pathNot: '^src/(cli/|index\\.ts$)' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'no-tests-in-src',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
