package server

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"facereward/server/httpjson"
)

// hostSet is the set of host names (lower case, no port, no brackets) a
// server answers to.
type hostSet map[string]bool

// allowedHosts is the Host allow-list: the loopback names always; with
// public, also the host of listenAddr (unless it is every interface) and
// extra (--allow-host). A web page from any other origin can make a
// browser reach a localhost server by DNS rebinding, but its requests
// then carry the page's host name, which the list refuses.
func allowedHosts(listenAddr string, public bool, extra []string) hostSet {
	hosts := hostSet{"localhost": true, "127.0.0.1": true, "::1": true}
	if !public {
		return hosts
	}
	if host, _, err := net.SplitHostPort(listenAddr); err == nil {
		if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
			hosts[normalHost(host)] = true
		}
	}
	for _, h := range extra {
		hosts[normalHost(h)] = true
	}
	return hosts
}

// allows says whether host (a Host header or a URL's host, with or
// without a port) is in the set. Any loopback IP counts as localhost.
func (s hostSet) allows(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = normalHost(host)
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() && s["localhost"] {
		return true
	}
	return host != "" && s[host]
}

func (s hostSet) String() string {
	names := make([]string, 0, len(s))
	for h := range s {
		names = append(names, h)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// normalHost drops brackets, a trailing dot and case: "[::1]" is "::1",
// "LOCALHOST." is "localhost".
func normalHost(h string) string {
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// guard refuses requests for a host not in hosts (421) and writes whose
// Origin is not one of them (403), before next sees them. A write without
// an Origin header is let through: browsers send one with every
// cross-origin POST, and clients that omit it (curl, scripts) are not a
// web page acting for someone else.
func guard(hosts hostSet, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hosts.allows(r.Host) {
			httpjson.Error(w, http.StatusMisdirectedRequest,
				fmt.Sprintf("host %q is not served here (allowed: %s; see serve --allow-host)", r.Host, hosts))
			return
		}
		if isWrite(r.Method) {
			if origin := r.Header.Get("Origin"); origin != "" && !originAllowed(hosts, origin) {
				httpjson.Error(w, http.StatusForbidden, fmt.Sprintf("origin %q may not write here", origin))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// originAllowed parses an Origin header ("null" for sandboxed pages and
// files is refused: it is no host at all).
func originAllowed(hosts hostSet, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return hosts.allows(u.Host)
}
