# facereward serve in a container: a static binary (the fast build, with the
# built-in weights embedded) on an empty base image. Build and run:
#
#   docker build -t facereward .
#   docker run --rm -p 127.0.0.1:8080:8080 facereward                # then open http://127.0.0.1:8080/restore
#   docker run --rm -p 8080:8080 -e FACEREWARD_TOKEN=… facereward      # reachable by others: set a token
#
# Flags after the image name replace the default command's (see
# `facereward serve --help`), e.g. `facereward serve --addr 0.0.0.0:8080
# --public --workers 1 --queue 8`.

# Go 1.26: the fast build needs GOEXPERIMENT=simd (README, "Builds").
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), no VCS stamp (.git is not sent), no paths or symbols.
RUN GOEXPERIMENT=simd CGO_ENABLED=0 go build -buildvcs=false -trimpath -ldflags='-s -w' \
      -o /out/facereward ./cmd/facereward

# Nothing but the binary: no shell, no libc, no CA certificates (it makes
# no outbound connections). It runs as an unprivileged user by number, as
# scratch has no /etc/passwd.
FROM scratch
COPY --from=build /out/facereward /facereward
USER 65532:65532
EXPOSE 8080
# Inside a container, the published port is the way in: listen on every
# interface (--public); the token comes from FACEREWARD_TOKEN when set.
ENTRYPOINT ["/facereward"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--public"]
