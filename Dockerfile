# gavel as a container image: a static binary on distroless (no shell, no
# package manager), running as a non-root user. The Kubernetes Indexed Job
# in docs/scale.md uses it.
#
#   docker build -t gavel:dev --build-arg VERSION=v0.9.0 .
#   docker run --rm -v "$PWD:/work" gavel:dev run examples/arithmetic/gavel.yaml

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/gavel ./cmd/gavel

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gavel /usr/local/bin/gavel
USER nonroot:nonroot
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/gavel"]
