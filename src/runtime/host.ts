/**
 * Host names in URLs: IPv6 addresses need brackets, wildcard listen addresses are not reachable
 * as such and become loopback.
 *
 * @module
 */

/** `::1` → `[::1]`; names and IPv4 addresses stay as they are. */
export function urlHost(hostname: string): string {
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}

/** A listen host as a client reaches it: `0.0.0.0`/empty → `127.0.0.1`, `::` → `::1`. */
export function reachableHost(hostname: string): string {
  const host = hostname.startsWith("[") && hostname.endsWith("]")
    ? hostname.slice(1, -1)
    : hostname;
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "::0" || host === "0:0:0:0:0:0:0:0") return "::1";
  return host;
}
