/**
 * The local node's ingress: NGINX configured from the base's Ingress resources (the controller the
 * cluster runs, F5's NGINX Ingress Controller, cannot be had here). Each path of an Ingress of class nginx
 * becomes a location proxying to its Service, with the `nginx.org/*` annotations the base sets (body size,
 * timeouts, keep-alive); a path whose Service the deployment does not have (Grafana, installed by Helm on
 * GKE) is left out. The result is deploy/k8s/overlays/local/ingress/nginx.conf, which a test regenerates.
 */

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: any;
}

interface Route {
  path: string;
  upstream: string;
  target: string;
  annotations: Record<string, string>;
}

/** Every path of every Ingress of class nginx, with its Service's address and port. */
export function routes(objs: Obj[]): Route[] {
  const services = new Map(objs.filter((o) => o.kind === 'Service').map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const out: Route[] = [];
  for (const ing of objs.filter((o) => o.kind === 'Ingress' && o.spec?.ingressClassName === 'nginx')) {
    for (const rule of ing.spec.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const ns = ing.metadata.namespace!;
        const svc = services.get(`${ns}/${p.backend.service.name}`);
        if (!svc) continue;
        const port =
          p.backend.service.port.number ?? svc.spec.ports.find((x: { name: string }) => x.name === p.backend.service.port.name)?.port;
        out.push({
          path: p.path,
          upstream: `${ns}-${svc.metadata.name}-${port}`,
          target: `${svc.metadata.name}.${ns}.svc.cluster.local:${port}`,
          annotations: ing.metadata.annotations ?? {},
        });
      }
    }
  }
  return out.sort((a, b) => b.path.length - a.path.length || a.path.localeCompare(b.path));
}

/** nginx.conf for the routes: one server on 8080 for every host (the entry URL names none). */
export function nginxConf(rs: Route[]): string {
  const a = (r: Route, k: string, d: string) => r.annotations[`nginx.org/${k}`] ?? d;
  const upstreams = [...new Map(rs.map((r) => [r.upstream, r])).values()].map((r) =>
    [
      `  upstream ${r.upstream} {`,
      `    server ${r.target};`,
      `    keepalive ${a(r, 'keepalive', '16')};`,
      // a kept connection goes to one pod of the Service; renewing them spreads the load over the pods an HPA adds
      '    keepalive_time 10s;',
      '  }',
    ].join('\n'),
  );
  const locations = rs.map((r) =>
    [
      `    location ${r.path} {`,
      `      client_max_body_size ${a(r, 'client-max-body-size', '1m')};`,
      `      proxy_pass http://${r.upstream};`,
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_set_header Host $host;',
      `      proxy_connect_timeout ${a(r, 'proxy-connect-timeout', '60s')};`,
      `      proxy_read_timeout ${a(r, 'proxy-read-timeout', '60s')};`,
      '    }',
    ].join('\n'),
  );
  return [
    '# Generated from the Ingress resources of deploy/k8s/overlays/local by stack/src/cluster/ingress.ts',
    '# (npm run cluster -- ingress); a test checks it is what they give.',
    'worker_processes 2;',
    'pid /tmp/nginx.pid;',
    'error_log stderr warn;',
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    '  keepalive_timeout 65s;',
    '  keepalive_requests 1000000;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => `  ${d}_temp_path /tmp/${d};`),
    ...upstreams,
    '  server {',
    '    listen 8080 default_server;',
    ...locations,
    '  }',
    '}',
    '',
  ].join('\n');
}
