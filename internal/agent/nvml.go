package agent

import (
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/dora-hpc/dora-operator/internal/agent/inventory"
)

// NVML hands out an initialised NVML library, initialising it on first use and trying again
// at later polls while it fails (the driver may load after the agent starts).
type NVML struct {
	mu      sync.Mutex
	lib     nvml.Interface
	ready   bool
	lastErr string
	onError func(string)
}

// NewNVML wraps lib; onError is told (once per distinct error) why NVML does not answer.
func NewNVML(lib nvml.Interface, onError func(string)) *NVML {
	return &NVML{lib: lib, onError: onError}
}

// Get returns the library, initialised, or why it cannot be.
func (n *NVML) Get() (nvml.Interface, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ready {
		return n.lib, nil
	}
	if ret := n.lib.Init(); ret != nvml.SUCCESS {
		err := fmt.Errorf("%w: initialising NVML: %s", inventory.ErrNVMLUnavailable, ret.Error())
		if msg := err.Error(); msg != n.lastErr && n.onError != nil {
			n.onError(msg)
		}
		n.lastErr = err.Error()
		return nil, err
	}
	n.ready = true
	return n.lib, nil
}

// Shutdown releases NVML if it was initialised.
func (n *NVML) Shutdown() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ready {
		// Nothing is left to do with an error at shutdown but to stop.
		_ = n.lib.Shutdown()
		n.ready = false
	}
}
