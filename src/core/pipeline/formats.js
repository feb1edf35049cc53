// The string formats the pipeline schema names, for the generated validator
// (scripts/gen-schema-validator.cjs). Plain JavaScript: the generated code requires it as is.
/* global module, URL */
'use strict';
module.exports = {
  uri: (v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  },
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
};
