'use strict';
// pyfence is an ES module. Where Node can load one with require() (22.12 and newer), this is it;
// elsewhere (Node 20) say how to load it instead of failing with ERR_REQUIRE_ESM.
try {
  module.exports = require('./bundle/index.js');
} catch (e) {
  if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    throw new Error(
      "pyfence is an ES module and this Node.js cannot require() it: use `const { Sandbox } = await import('pyfence')` " +
        'from CommonJS, or `import { Sandbox } from "pyfence"` from an ES module.',
    );
  }
  throw e;
}
