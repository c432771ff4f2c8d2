import type * as cog from '@grafana/grafana-foundation-sdk/cog';

/**
 * A query of the Infinity data source (yesoreyeram-infinity-datasource,
 * maintained by Grafana Labs): a JSON URL, relative to the data source's base
 * URL (the API), parsed by its backend parser into a table: `root_selector`
 * picks the array of rows, each column's `selector` a field of a row. The
 * foundation SDK has no builder for it, so this one builds the plugin's own
 * query model.
 */
export interface InfinityColumn {
  selector: string;
  text: string;
  type: 'string' | 'number' | 'timestamp_epoch';
}

export interface InfinityTarget {
  refId: string;
  datasource: { type: 'yesoreyeram-infinity-datasource'; uid: string };
  type: 'json';
  source: 'url';
  parser: 'backend';
  format: 'table';
  url: string;
  url_options: { method: 'GET'; data: '' };
  root_selector: string;
  columns: InfinityColumn[];
}

export const INFINITY_TYPE = 'yesoreyeram-infinity-datasource';

export class InfinityQueryBuilder implements cog.Builder<cog.Dataquery> {
  readonly #q: InfinityTarget;

  constructor(uid: string, refId = 'A') {
    this.#q = {
      refId,
      datasource: { type: INFINITY_TYPE, uid },
      type: 'json',
      source: 'url',
      parser: 'backend',
      format: 'table',
      url: '',
      url_options: { method: 'GET', data: '' },
      root_selector: '',
      columns: [],
    };
  }

  url(url: string): this {
    this.#q.url = url;
    return this;
  }

  rootSelector(selector: string): this {
    this.#q.root_selector = selector;
    return this;
  }

  column(selector: string, text: string, type: InfinityColumn['type']): this {
    this.#q.columns.push({ selector, text, type });
    return this;
  }

  build(): cog.Dataquery {
    return { ...structuredClone(this.#q), _implementsDataqueryVariant() {} } as unknown as cog.Dataquery;
  }
}
