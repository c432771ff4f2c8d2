export * from './define.js';
export * from './validate.js';
export * from './json.js';
export * from './weather.js';
export * from './blackfriday.js';
export * from './domains.js';
