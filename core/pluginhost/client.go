package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// dispense returns the binary's plugin of kind, which it must serve.
func (p *Plugin) dispense(kind string) (any, string, error) {
	who := p.spec
	who.Kind = kind
	label := who.String()
	for _, k := range p.kinds {
		if k != kind {
			continue
		}
		raw, err := p.rpc.Dispense(kind)
		if err != nil {
			return nil, label, fmt.Errorf("%s: %w", label, err)
		}
		return raw, label, nil
	}
	return nil, label, fmt.Errorf("%s: %w: %s serves %s, not %s", label, ErrKindNotServed, p.spec.Path, servedList(p.kinds), kind)
}

// callValue is p.call for a call that returns a value.
func callValue[T any](ctx context.Context, p *Plugin, who, op string, fn func(context.Context) (T, error)) (v T, err error) {
	err = p.call(ctx, who, op, func(ctx context.Context) error {
		v, err = fn(ctx)
		return err
	})
	return v, err
}

// Storage returns the binary's storage plugin. Every call on it has the
// call timeout and every error names the plugin.
func (p *Plugin) Storage() (storage.Storage, error) {
	return p.StorageAs("")
}

// StorageAs is Storage for a binary serving the storage beside other
// plugins: errors call it "storage plugin <name>" (the binary's name when
// name is empty).
func (p *Plugin) StorageAs(name string) (storage.Storage, error) {
	raw, label, err := p.dispense(sdkplugin.KindStorage)
	if err != nil {
		return nil, err
	}
	if name != "" {
		label = Spec{Kind: sdkplugin.KindStorage, Name: name}.String()
	}
	return &storageClient{p: p, label: label, s: raw.(storage.Storage)}, nil
}

// Source returns the binary's source plugin; it is also a source.Decoder
// whose Decode fails with source.ErrNoDecoder when the plugin does not
// decode. Every call has the call timeout and every error names the
// plugin.
func (p *Plugin) Source() (source.Source, error) {
	raw, label, err := p.dispense(sdkplugin.KindSource)
	if err != nil {
		return nil, err
	}
	return &sourceClient{p: p, label: label, s: raw.(source.Source)}, nil
}

// SourceNamed returns the source named name of a binary serving several
// (sdkplugin.ServeConfig.Sources, such as BuiltinSourcesSpec's), or, for
// an empty name, the binary's only source (Source). Like Source's, every
// call has the call timeout and every error names the source.
func (p *Plugin) SourceNamed(name string) (source.Source, error) {
	if name == "" {
		return p.Source()
	}
	raw, _, err := p.dispense(sdkplugin.KindSource)
	if err != nil {
		return nil, err
	}
	label := Spec{Kind: sdkplugin.KindSource, Name: name}.String()
	return &sourceClient{p: p, label: label, s: raw.(source.Source), member: name}, nil
}

// Notifier returns the binary's notifier plugin. Every call has the call
// timeout and every error names the plugin. A Send that failed because
// the plugin crashed, hung or was unreachable is marked
// notifier.Temporary: the notification was not delivered and is worth
// retrying.
func (p *Plugin) Notifier() (notifier.Notifier, error) {
	return p.NotifierAs("")
}

// NotifierAs is Notifier for a binary serving the notifier beside other
// plugins: errors call it "notifier plugin <name>" (the binary's name
// when name is empty).
func (p *Plugin) NotifierAs(name string) (notifier.Notifier, error) {
	raw, label, err := p.dispense(sdkplugin.KindNotifier)
	if err != nil {
		return nil, err
	}
	if name != "" {
		label = Spec{Kind: sdkplugin.KindNotifier, Name: name}.String()
	}
	return &notifierClient{p: p, label: label, n: raw.(notifier.Notifier)}, nil
}

type storageClient struct {
	p     *Plugin
	label string
	s     storage.Storage
}

var (
	_ storage.Storage        = (*storageClient)(nil)
	_ storage.Migrator       = (*storageClient)(nil)
	_ storage.Pruner         = (*storageClient)(nil)
	_ storage.PrunePreviewer = (*storageClient)(nil)
)

func (c *storageClient) Describe(ctx context.Context) (storage.Description, error) {
	return callValue(ctx, c.p, c.label, "describe", c.s.Describe)
}

func (c *storageClient) Open(ctx context.Context, config []byte) error {
	return c.p.call(ctx, c.label, "open", func(ctx context.Context) error { return c.s.Open(ctx, config) })
}

func (c *storageClient) WriteBatch(ctx context.Context, b *storage.Batch) error {
	return c.p.call(ctx, c.label, "write batch", func(ctx context.Context) error { return c.s.WriteBatch(ctx, b) })
}

func (c *storageClient) Close(ctx context.Context) error {
	return c.p.call(ctx, c.label, "close", func(ctx context.Context) error { return c.s.Close(ctx) })
}

// Migrate answers storage.ErrUnsupported for a plugin without it.
func (c *storageClient) Migrate(ctx context.Context, config []byte) (storage.Migration, error) {
	return callValue(ctx, c.p, c.label, "migrate",
		func(ctx context.Context) (storage.Migration, error) { return storage.Migrate(ctx, c.s, config) })
}

// Prune answers storage.ErrUnsupported for a plugin without it.
func (c *storageClient) Prune(ctx context.Context, config []byte, olderThan time.Time) (storage.Pruned, error) {
	return callValue(ctx, c.p, c.label, "prune",
		func(ctx context.Context) (storage.Pruned, error) { return storage.Prune(ctx, c.s, config, olderThan) })
}

// PrunePreview answers storage.ErrUnsupported for a plugin without it.
func (c *storageClient) PrunePreview(ctx context.Context, config []byte, olderThan time.Time) (storage.Pruned, error) {
	return callValue(ctx, c.p, c.label, "prune preview",
		func(ctx context.Context) (storage.Pruned, error) {
			return storage.PrunePreview(ctx, c.s, config, olderThan)
		})
}

type sourceClient struct {
	p     *Plugin
	label string
	s     source.Source
	// member names the source in each call when the binary serves
	// several; empty otherwise.
	member string
}

// callFor addresses ctx's calls to c's source.
func (c *sourceClient) callFor(ctx context.Context) context.Context {
	if c.member == "" {
		return ctx
	}
	return sdkplugin.CallFor(ctx, c.member)
}

var (
	_ source.Source  = (*sourceClient)(nil)
	_ source.Decoder = (*sourceClient)(nil)
)

func (c *sourceClient) Describe(ctx context.Context) (source.Description, error) {
	return callValue(ctx, c.p, c.label, "describe",
		func(ctx context.Context) (source.Description, error) { return c.s.Describe(c.callFor(ctx)) })
}

func (c *sourceClient) Module(ctx context.Context, pl source.Platform) (source.Module, error) {
	return callValue(ctx, c.p, c.label, "module for "+pl.OS+"/"+pl.Arch,
		func(ctx context.Context) (source.Module, error) { return c.s.Module(c.callFor(ctx), pl) })
}

func (c *sourceClient) Decode(ctx context.Context, pl source.Platform, raw []byte) (source.Decoded, error) {
	dec, ok := c.s.(source.Decoder)
	if !ok {
		return source.Decoded{}, fmt.Errorf("%s: decode: %w", c.label, source.ErrNoDecoder)
	}
	return callValue(ctx, c.p, c.label, "decode",
		func(ctx context.Context) (source.Decoded, error) { return dec.Decode(c.callFor(ctx), pl, raw) })
}

type notifierClient struct {
	p     *Plugin
	label string
	n     notifier.Notifier
}

var (
	_ notifier.Notifier    = (*notifierClient)(nil)
	_ notifier.BatchSender = (*notifierClient)(nil)
)

func (c *notifierClient) Describe(ctx context.Context) (notifier.Description, error) {
	return callValue(ctx, c.p, c.label, "describe", c.n.Describe)
}

func (c *notifierClient) Configure(ctx context.Context, config []byte) error {
	return c.p.call(ctx, c.label, "configure", func(ctx context.Context) error { return c.n.Configure(ctx, config) })
}

func (c *notifierClient) Send(ctx context.Context, n notifier.Notification) error {
	return sendFailure(c.p.call(ctx, c.label, "send", func(ctx context.Context) error { return c.n.Send(ctx, n) }))
}

// SendBatch sends ns in one call to the plugin (see notifier.BatchSender).
func (c *notifierClient) SendBatch(ctx context.Context, ns []notifier.Notification) (int, error) {
	var sent int
	err := c.p.call(ctx, c.label, "send", func(ctx context.Context) error {
		var err error
		sent, err = notifier.SendBatch(ctx, c.n, ns)
		return err
	})
	return sent, sendFailure(err)
}

// sendFailure is err of a send, marked Temporary when the plugin never
// answered: the notification may go out once it does.
func sendFailure(err error) error {
	if err != nil && !notifier.IsTemporary(err) && Failed(err) {
		return notifier.Temporary(err)
	}
	return err
}

// Failed reports whether err means the plugin never answered (it
// crashed, hung, was unreachable, or the call ran out of time or was
// cancelled), as opposed to the plugin answering with an error: a failed
// delivery, a refused setting.
func Failed(err error) bool {
	return errors.Is(err, ErrPluginExited) || errors.Is(err, ErrPluginHung) ||
		errors.Is(err, sdkplugin.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
