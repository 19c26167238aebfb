// @ts-check
/**
 * TypeDoc plugin: names each entry-point module after the import path users write (`@ebm/core`,
 * `@ebm/core/testing`, `@ebm/viz/node`) instead of its folder (`core/src`, `viz/src/node`).
 */
import { Converter } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const m of context.project.children ?? []) {
      const match = /^([\w-]+)\/src(?:\/(.+))?$/.exec(m.name);
      if (match === null) continue;
      m.name =
        match[2] === undefined || match[2] === 'index' ? `@ebm/${match[1]}` : `@ebm/${match[1]}/${match[2]}`;
    }
  });
}
