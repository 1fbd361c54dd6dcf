package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gavel-eval/gavel/internal/redact"
	"github.com/gavel-eval/gavel/traces"
)

// DefaultTimeout is the per-call timeout when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// The built-in OpenAI provider's defaults.
const (
	openAIName       = "openai"
	openAIType       = "openai"
	openAIDefaultURL = "https://api.openai.com/v1"
	openAIKeyEnv     = "OPENAI_API_KEY"
	openAIBaseURLEnv = "OPENAI_BASE_URL"
)

// ProviderConfig declares a provider, as written in the spec.
type ProviderConfig struct {
	// Name is the provider part of model names ("local" in "local/llama3").
	// It must not contain "/". "openai" overrides the built-in OpenAI
	// provider; the names of Config.Local are reserved.
	Name string `json:"name" yaml:"name"`
	// Type is "openai" for a server speaking the OpenAI chat completions
	// wire format (the default when empty) or the name of a local provider
	// (Config.Local, for example "offline") to serve its models under
	// another name.
	Type string `json:"type,omitempty" yaml:"type"`
	// BaseURL is the server's API root, for example
	// "http://localhost:11434/v1". Required for an "openai" provider other
	// than "openai" itself.
	BaseURL string `json:"base_url,omitempty" yaml:"base_url"`
	// APIKeyEnv names the environment variable holding the API key; empty
	// means no key (or OPENAI_API_KEY for the provider named "openai"). The
	// key itself never appears in a spec, a trace or an error.
	APIKeyEnv string `json:"api_key_env,omitempty" yaml:"api_key_env"`
}

// Config configures a Router.
type Config struct {
	// Providers are the spec's providers, added to (or, for "openai",
	// replacing) the built-in "openai" provider and the local ones.
	Providers []ProviderConfig
	// Local are the providers answering in-process, by name (see
	// Provider): gavel registers the offline models (package llm/offline)
	// as "offline".
	Local map[string]Provider
	// Prices override and extend DefaultPrices.
	Prices PriceTable
	// Timeout bounds each attempt of a call (a retried call may take
	// longer; see Retry); zero means DefaultTimeout.
	Timeout time.Duration
	// Getenv reads the environment (API keys, OPENAI_BASE_URL). Required:
	// the package never reads the process environment itself.
	Getenv func(string) string
	// HTTPClient makes the HTTP requests; nil means a new http.Client. Its
	// own Timeout, if any, applies on top of Config.Timeout.
	HTTPClient *http.Client
	// Retry says how failed calls are retried; the zero value means the
	// defaults (5 attempts within 2 minutes, waits from 500ms up to 30s).
	Retry RetryPolicy
	// Limits bound the calls to a provider (key "openai") or to one of its
	// models (key "openai/gpt-4o", which wins over the provider's key for
	// that model), shared by every call through the Router: chains and
	// judges alike. Providers without an entry are not bounded, but still
	// slow down when their server answers 429 (see Router).
	Limits map[string]Limit
	// Cache stores chat replies by CacheKey; nil means no cache.
	Cache Cache
	// CacheMode says how Cache is used; empty means CacheReadWrite with a
	// Cache and CacheOff without one. CacheReplay requires a Cache.
	CacheMode CacheMode
	// Secrets are values, besides the providers' API keys and the
	// credentials in their base URLs, that must never be kept: for example those a chain step takes from the
	// environment. They and the keys are replaced by "[redacted]" in
	// every reply before it is cached or returned, and in every error.
	// Values shorter than 4 bytes are ignored.
	Secrets []string
}

// provider is one resolved provider.
type provider interface {
	// check validates a model name (the part after "provider/") without
	// calling anything.
	check(model string) error
	// chat makes one chat completion call for model.
	chat(ctx context.Context, model string, req Request) (Response, error)
	// embed makes one embeddings call for model.
	embed(ctx context.Context, model string, req EmbedRequest) (EmbedResponse, error)
	// baseURL is the server's URL for traces, with any credentials
	// removed, or "" for a built-in model.
	baseURL() string
	// free reports whether every call costs nothing.
	free() bool
}

// Router is a Model that dispatches "provider/model" names to providers.
// For every call it records one span of kind llm and prices the call. It
// is safe for concurrent use.
//
// A chat call goes through these steps, in order:
//
//  1. The cache (Config.Cache, Config.CacheMode): a hit is the answer,
//     with no request and no rate-limit token taken. A hit reports the
//     figures of the call that was made, stored with its reply: its
//     Usage, its LatencyMS and its CostUSD (nil for a model with no
//     price, as on a miss); Response.Cached marks it, and its span has
//     "cache": "hit", "original_latency_ms" and "cost_usd_saved" (what
//     the hit did not spend again). Concurrent calls with the same cache
//     key make one request, whose reply the others share as hits
//     ("cache_shared"). In replay mode a miss fails with an error
//     wrapping ErrNotCached and makes no request; no API key is needed;
//     an entry that cannot be read (a damaged file, a checksum that does
//     not match) is an error naming the call, while in the other modes it
//     is a miss.
//  2. The limits (Config.Limits) of the call's provider or model, before
//     every attempt: a pause after a Retry-After, a bound on attempts in
//     flight, and the RPM and TPM buckets.
//  3. The call, each attempt within the per-call timeout, retried on
//     transient failures (Config.Retry, RetryPolicy).
//  4. In read-write mode, the reply is stored in the cache; errors never
//     are.
//
// The bound on attempts in flight adapts to the server (AIMD): a 429
// halves it (at least 1) for the whole provider (or model), a Retry-After
// pauses every new attempt to it until then, and after as many successes
// in a row as the bound, it grows by one, back up to Limit.Concurrency
// (or, with none configured, until it is lifted). ProviderStats shows
// this state.
//
// Embeddings calls (Embed) go through the same steps, cached under
// EmbedCacheKey.
type Router struct {
	providers map[string]provider
	prices    PriceTable
	timeout   time.Duration
	retry     RetryPolicy
	jitter    *jitter
	clock     clock
	limits    *limiters
	cache     *routerCache
	secrets   *redact.Secrets // the providers' keys and Config.Secrets
}

var (
	_ Model    = (*Router)(nil)
	_ Embedder = (*Router)(nil)
)

// NewRouter builds a Router from cfg. It checks the providers' declarations
// but calls nothing and requires no API key: use Check to validate the
// models a run will use before it starts.
func NewRouter(cfg Config) (*Router, error) {
	if cfg.Getenv == nil {
		return nil, errors.New("llm: Config.Getenv is required")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("llm: negative timeout %v", cfg.Timeout)
	}
	retry, err := cfg.Retry.withDefaults()
	if err != nil {
		return nil, err
	}
	rc, err := newRouterCache(cfg.Cache, cfg.CacheMode)
	if err != nil {
		return nil, err
	}
	if err := checkLocal(cfg.Local); err != nil {
		return nil, err
	}
	r := &Router{
		providers: make(map[string]provider, len(cfg.Local)+1+len(cfg.Providers)),
		prices:    DefaultPrices().merged(cfg.Prices),
		timeout:   cfg.Timeout,
		retry:     retry,
		jitter:    newJitter(retry.Seed),
		clock:     realClock{},
		cache:     rc,
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}

	builtinURL := strings.TrimSpace(cfg.Getenv(openAIBaseURLEnv))
	if builtinURL == "" {
		builtinURL = openAIDefaultURL
	}
	specs := []ProviderConfig{{Name: openAIName, Type: openAIType, BaseURL: builtinURL, APIKeyEnv: openAIKeyEnv}}
	seen := map[string]bool{}
	for _, pc := range cfg.Providers {
		switch {
		case pc.Name == "":
			return nil, errors.New("llm: a provider has no name")
		case strings.Contains(pc.Name, "/"):
			return nil, fmt.Errorf("llm: provider name %q contains \"/\"", pc.Name)
		case cfg.Local[pc.Name] != nil:
			return nil, fmt.Errorf("llm: provider name %q is reserved for the local provider of that name", pc.Name)
		case seen[pc.Name]:
			return nil, fmt.Errorf("llm: provider %q is declared twice", pc.Name)
		}
		seen[pc.Name] = true
		if pc.Name == openAIName {
			if cfg.Local[pc.Type] == nil && pc.BaseURL == "" {
				pc.BaseURL = builtinURL
			}
			if cfg.Local[pc.Type] == nil && pc.APIKeyEnv == "" {
				pc.APIKeyEnv = openAIKeyEnv
			}
			specs[0] = pc
			continue
		}
		specs = append(specs, pc)
	}

	for name, lp := range cfg.Local {
		r.providers[name] = localProvider{lp}
	}
	for _, pc := range specs {
		p, err := newProvider(pc, cfg.Local, cfg.Getenv, hc)
		if err != nil {
			return nil, fmt.Errorf("llm: provider %q: %w", pc.Name, err)
		}
		r.providers[pc.Name] = p
	}
	secrets := redact.New(cfg.Secrets...)
	for _, p := range r.providers {
		if op, ok := p.(*openAIProvider); ok {
			secrets = secrets.With(op.key)
			secrets = secrets.With(redact.URLSecrets(op.url)...)
		}
	}
	for _, p := range r.providers {
		if op, ok := p.(*openAIProvider); ok {
			op.secrets = secrets
		}
	}
	r.secrets = secrets
	if rec, ok := cfg.Cache.(*RecordingCache); ok {
		rec.keepOut(secrets)
	}
	if err := checkLimits(cfg.Limits, r.providers); err != nil {
		return nil, err
	}
	limits := make(map[string]Limit, len(cfg.Limits))
	for k, v := range cfg.Limits {
		limits[k] = v
	}
	r.limits = &limiters{cfg: limits}
	return r, nil
}

// newProvider builds the provider pc declares.
func newProvider(pc ProviderConfig, local map[string]Provider, getenv func(string) string, hc *http.Client) (provider, error) {
	if lp := local[pc.Type]; lp != nil {
		if pc.BaseURL != "" || pc.APIKeyEnv != "" {
			return nil, fmt.Errorf("a %s provider takes no base_url or api_key_env", pc.Type)
		}
		return localProvider{lp}, nil
	}
	switch pc.Type {
	case openAIType, "":
		if pc.BaseURL == "" {
			return nil, errors.New("base_url is required")
		}
		u, err := url.Parse(pc.BaseURL)
		if err != nil {
			// url.Error repeats the URL, credentials and all.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("base_url %q: %w", redact.Text(pc.BaseURL), err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("base_url %q: want an http:// or https:// URL", redact.URL(u.Redacted()))
		}
		var key string
		if pc.APIKeyEnv != "" {
			key = strings.TrimSpace(getenv(pc.APIKeyEnv))
		}
		return &openAIProvider{
			name:       pc.Name,
			url:        pc.BaseURL,
			safeURL:    redact.URL(pc.BaseURL),
			official:   strings.EqualFold(u.Hostname(), "api.openai.com"),
			key:        key,
			keyEnv:     pc.APIKeyEnv,
			httpClient: hc,
		}, nil
	default:
		return nil, fmt.Errorf("unknown type %q (types: %s)", pc.Type, strings.Join(append([]string{openAIType}, localNames(local)...), ", "))
	}
}

// Check validates a model name before any call: its provider is known, its
// model part is not empty, a local provider knows the model, and a provider serving
// the official OpenAI API has its API key set — except in replay mode,
// which makes no request and so needs no key.
func (r *Router) Check(model string) error {
	if _, _, err := r.resolve(model); err != nil {
		return fmt.Errorf("model %q: %w", model, err)
	}
	return nil
}

// resolve returns the provider of a full model name and the model part.
func (r *Router) resolve(full string) (provider, string, error) {
	name, model, ok := strings.Cut(full, "/")
	if !ok || name == "" {
		return nil, "", fmt.Errorf("want \"provider/model\", for example \"openai/gpt-4o-mini\" or \"offline/calc\"")
	}
	p, ok := r.providers[name]
	if !ok {
		return nil, "", fmt.Errorf("unknown provider %q (known providers: %s)", name, strings.Join(r.providerNames(), ", "))
	}
	if model == "" {
		return nil, "", fmt.Errorf("empty model name after provider %q", name)
	}
	if isLocal(p) || r.cache.mode != CacheReplay {
		if err := p.check(model); err != nil {
			return nil, "", err
		}
	}
	return p, model, nil
}

// startCall starts the llm span of a call to model, named name (default:
// the model name), with input as its input.
func startCall(ctx context.Context, name, model string, input any) (context.Context, *traces.ActiveSpan) {
	if name == "" {
		name = model
	}
	ctx, span := traces.Start(ctx, name, traces.KindLLM)
	span.SetInput(input)
	span.SetAttr("model", model)
	return ctx, span
}

// resolveCall resolves the full model name of a call and records its
// provider and base URL on span. It returns the provider, the model part
// and the provider part of the name.
func (r *Router) resolveCall(span *traces.ActiveSpan, full string) (provider, string, string, error) {
	p, model, err := r.resolve(full)
	if err != nil {
		return nil, "", "", fmt.Errorf("model %q: %w", full, err)
	}
	prov, _, _ := strings.Cut(full, "/")
	span.SetAttr("provider", prov)
	if u := p.baseURL(); u != "" {
		span.SetAttr("base_url", u)
	}
	return p, model, prov, nil
}

func (r *Router) providerNames() []string {
	names := make([]string, 0, len(r.providers))
	for n := range r.providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Chat sends req to the provider its model names, through the cache, the
// limits and the retries (see Router), each attempt within the per-call
// timeout. It records one span of kind llm named req.Name (default: the
// model name) with the messages as input, the reply as output and the
// model, provider, base URL, parameters, token usage, cost, finish
// reason, cache use ("cache": "hit", "miss" or "off") and attempts
// ("attempts", "retries") as attributes; a failed call ends the span with
// its error. The response's CostUSD comes from the price table (for a
// cache hit, the one stored with the reply).
//
// With Params.Stream the provider is asked for a stream, assembled into
// the same Response, and the span also has "ttft_ms" and
// "tokens_per_second" (see Response.TTFTMS; a cache hit has neither).
// A stream that fails before its first token is retried like any failed
// attempt; one that breaks off after it is not (see StreamError): Chat
// then returns what arrived — its content, estimated usage, latency, time
// to first token and cost — with the error, and the span records it as
// its output, with "stream_incomplete": true.
func (r *Router) Chat(ctx context.Context, req Request) (resp Response, err error) {
	ctx, span := startCall(ctx, req.Name, req.Model, spanMessages(req))
	defer func() { span.End(err) }()
	if params := req.Params.attrs(); len(params) > 0 {
		span.SetAttr("params", params)
	}
	if len(req.Tools) > 0 {
		names := make([]string, len(req.Tools))
		for i, t := range req.Tools {
			names[i] = t.Name
		}
		span.SetAttr("tools", names)
	}

	p, model, prov, err := r.resolveCall(span, req.Model)
	if err != nil {
		return Response{}, err
	}
	if len(req.Messages) == 0 {
		return Response{}, fmt.Errorf("model %q: request has no messages", req.Model)
	}

	key := ""
	if r.cache.uses(p) {
		key = CacheKey(req)
	}
	stream := req.Params.Streaming()
	var broken *StreamError
	resp, hit, err := r.cache.through(ctx, span, p, req.Model, key, func() (Response, error) {
		lim := r.limits.get(r.limits.key(prov, model))
		estimate := EstimateUsage(req.Messages, "").PromptTokens
		id := func() uint64 {
			if key != "" {
				return callID(key)
			}
			return callID(CacheKey(req))
		}
		var resp Response
		start := r.clock.Now()
		var first time.Time
		cctx := ctx
		if stream {
			cctx = withFirstToken(ctx, func() {
				if first.IsZero() {
					first = r.clock.Now()
				}
			})
		}
		// finish times and prices a reply: a whole one, or what arrived of
		// a stream that broke off.
		finish := func(resp *Response) {
			if !isLocal(p) {
				resp.LatencyMS = ms(r.clock.Now().Sub(start))
			}
			if stream {
				switch {
				case isLocal(p):
					if resp.TTFTMS == nil {
						zero := 0.0
						resp.TTFTMS = &zero
					}
				case !first.IsZero():
					t := ms(first.Sub(start))
					resp.TTFTMS = &t
				default:
					// No chunk carried content: the first token, if
					// any, came with the end.
					t := resp.LatencyMS
					resp.TTFTMS = &t
				}
			}
			resp.CostUSD = r.callCost(p, req.Model, resp.Usage)
		}
		err := r.withRetries(cctx, span, lim, estimate, id, func(actx context.Context) (int, error) {
			var aerr error
			resp, aerr = p.chat(actx, model, req)
			if errors.As(aerr, &broken) {
				return broken.Partial.Usage.PromptTokens + broken.Partial.Usage.CompletionTokens, aerr
			}
			return resp.Usage.PromptTokens + resp.Usage.CompletionTokens, aerr
		})
		if err != nil {
			if broken != nil {
				finish(&broken.Partial)
			}
			return Response{}, fmt.Errorf("model %q: %w", req.Model, err)
		}
		finish(&resp)
		return resp, nil
	})
	if err != nil {
		if broken != nil && errors.Is(err, broken) {
			// What arrived of the stream is the call's output, and its
			// tokens were spent.
			part := broken.Partial.clone()
			span.SetOutput(part.Content)
			span.SetAttr("stream_incomplete", true)
			r.callAttrs(span, part)
			return part, err
		}
		return Response{}, err
	}
	if hit {
		// An entry stored before its secret was known to be one is
		// redacted on the way out.
		resp = redactResponse(r.secrets, resp)
		resp.Cached = true
		// A reply from the cache arrives whole: it has no time to first
		// token.
		resp.TTFTMS = nil
		resp.CostUSD = r.hitCost(p, req.Model, resp.Usage, resp.CostUSD)
		if resp.CostUSD != nil {
			span.SetAttr("cost_usd_saved", *resp.CostUSD)
		}
		span.SetAttr("original_latency_ms", resp.LatencyMS)
	}

	if len(resp.Choices) > 1 {
		span.SetOutput(resp.Choices)
		span.SetAttr("choices", len(resp.Choices))
	} else {
		span.SetOutput(resp.Content)
	}
	if resp.Refusal != "" {
		span.SetAttr("refusal", resp.Refusal)
	}
	if len(resp.ToolCalls) > 0 {
		span.SetAttr("tool_calls", resp.ToolCalls)
		if resp.Content == "" && len(resp.Choices) <= 1 {
			span.SetOutput(resp.ToolCalls)
		}
	}
	if len(resp.Logprobs) > 0 {
		span.SetAttr("logprobs_tokens", len(resp.Logprobs))
	}
	r.callAttrs(span, resp)
	if resp.FinishReason != "" {
		span.SetAttr("finish_reason", resp.FinishReason)
	}
	return resp, nil
}

// callAttrs records a chat reply's figures on its span: the tokens, the
// cost and, for a streamed call, the time to first token ("ttft_ms") and
// the completion tokens per second after it ("tokens_per_second", absent
// when no time passed after the first token).
func (r *Router) callAttrs(span *traces.ActiveSpan, resp Response) {
	span.SetAttr("prompt_tokens", resp.Usage.PromptTokens)
	span.SetAttr("completion_tokens", resp.Usage.CompletionTokens)
	span.SetAttr("tokens_estimated", resp.Estimated)
	if resp.CostUSD != nil {
		span.SetAttr("cost_usd", *resp.CostUSD)
	}
	if resp.TTFTMS != nil {
		span.SetAttr("ttft_ms", *resp.TTFTMS)
		if after := resp.LatencyMS - *resp.TTFTMS; after > 0 {
			span.SetAttr("tokens_per_second", float64(resp.Usage.CompletionTokens)/(after/1000))
		}
	}
}

// callCost is the cost of a call that was made: 0 for a free provider,
// the price table's price, or nil when the model has none.
func (r *Router) callCost(p provider, model string, u Usage) *float64 {
	if p.free() {
		zero := 0.0
		return &zero
	}
	if cost, ok := r.prices.Cost(model, u); ok {
		return &cost
	}
	return nil
}

// hitCost is the cost reported for a cache hit: what the call cost when it
// was made (stored is that cost, nil for a model with no price then), else
// what it costs at today's prices, else nil, as for a call made to a
// model with no price.
func (r *Router) hitCost(p provider, model string, u Usage, stored *float64) *float64 {
	if stored != nil {
		c := *stored
		return &c
	}
	return r.callCost(p, model, u)
}

// attrs returns the parameters that are set, by their wire names.
func (p Params) attrs() map[string]any {
	m := map[string]any{}
	if p.Temperature != nil {
		m["temperature"] = *p.Temperature
	}
	if p.MaxTokens != nil {
		m["max_tokens"] = *p.MaxTokens
	}
	if p.TopP != nil {
		m["top_p"] = *p.TopP
	}
	if p.Seed != nil {
		m["seed"] = *p.Seed
	}
	if len(p.Stop) > 0 {
		m["stop"] = append([]string(nil), p.Stop...)
	}
	if p.PresencePenalty != nil {
		m["presence_penalty"] = *p.PresencePenalty
	}
	if p.FrequencyPenalty != nil {
		m["frequency_penalty"] = *p.FrequencyPenalty
	}
	if f := p.ResponseFormat; f != nil {
		rf := map[string]any{"type": f.Type}
		if f.JSONSchema != nil {
			rf["name"] = f.JSONSchema.Name
			rf["strict"] = f.JSONSchema.Strict
		}
		m["response_format"] = rf
	}
	if p.Logprobs {
		m["logprobs"] = true
	}
	if p.TopLogprobs != nil {
		m["top_logprobs"] = *p.TopLogprobs
	}
	if p.N != nil {
		m["n"] = *p.N
	}
	if p.Stream != nil {
		m["stream"] = *p.Stream
	}
	return m
}

// Embed computes the embeddings of req.Input with the model req.Model
// names, through the cache, the limits and the retries (see Router), each attempt
// within the per-call timeout. Like Chat it records one span of
// kind llm, named req.Name (default: the model name), with the inputs as
// input and the model, provider, base URL, number of inputs, dimensions,
// token usage and cost as attributes; the vectors themselves are not
// traced. The response's CostUSD comes from the price table (embedding
// models are priced per input token).
func (r *Router) Embed(ctx context.Context, req EmbedRequest) (resp EmbedResponse, err error) {
	ctx, span := startCall(ctx, req.Name, req.Model, req.Input)
	defer func() { span.End(err) }()
	span.SetAttr("operation", "embeddings")
	span.SetAttr("inputs", len(req.Input))

	p, model, prov, err := r.resolveCall(span, req.Model)
	if err != nil {
		return EmbedResponse{}, err
	}
	if len(req.Input) == 0 {
		return EmbedResponse{}, fmt.Errorf("model %q: embeddings request has no input", req.Model)
	}
	key := ""
	if r.cache.uses(p) {
		key = EmbedCacheKey(req)
	}
	cresp, hit, err := r.cache.through(ctx, span, p, req.Model, key, func() (Response, error) {
		lim := r.limits.get(r.limits.key(prov, model))
		id := func() uint64 { return callID(append([]string{"embed", req.Model}, req.Input...)...) }
		var eresp EmbedResponse
		start := r.clock.Now()
		err := r.withRetries(ctx, span, lim, EstimateEmbedUsage(req.Input).PromptTokens, id, func(actx context.Context) (int, error) {
			var aerr error
			eresp, aerr = p.embed(actx, model, req)
			return eresp.Usage.PromptTokens, aerr
		})
		if err != nil {
			return Response{}, fmt.Errorf("model %q: %w", req.Model, err)
		}
		cresp := Response{Vectors: eresp.Vectors, Usage: eresp.Usage, Estimated: eresp.Estimated,
			CostUSD: r.callCost(p, req.Model, eresp.Usage)}
		if !isLocal(p) {
			cresp.LatencyMS = float64(r.clock.Now().Sub(start).Microseconds()) / 1000
		}
		return cresp, nil
	})
	if err != nil {
		return EmbedResponse{}, err
	}
	if hit && len(cresp.Vectors) != len(req.Input) {
		return EmbedResponse{}, fmt.Errorf("model %q: the cached reply holds %d vectors for %d inputs", req.Model, len(cresp.Vectors), len(req.Input))
	}
	resp = EmbedResponse{Vectors: cresp.Vectors, Usage: cresp.Usage, Estimated: cresp.Estimated,
		CostUSD: cresp.CostUSD, LatencyMS: cresp.LatencyMS, Cached: hit}
	if hit {
		resp.CostUSD = r.hitCost(p, req.Model, resp.Usage, resp.CostUSD)
		if resp.CostUSD != nil {
			span.SetAttr("cost_usd_saved", *resp.CostUSD)
		}
		span.SetAttr("original_latency_ms", resp.LatencyMS)
	}
	dims := 0
	if len(resp.Vectors) > 0 {
		dims = len(resp.Vectors[0])
	}
	span.SetOutput(fmt.Sprintf("%d vectors of %d dimensions", len(resp.Vectors), dims))
	span.SetAttr("dimensions", dims)
	span.SetAttr("prompt_tokens", resp.Usage.PromptTokens)
	span.SetAttr("tokens_estimated", resp.Estimated)
	if resp.CostUSD != nil {
		span.SetAttr("cost_usd", *resp.CostUSD)
	}
	return resp, nil
}
