package agent

import (
	"context"
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	ctrl "sigs.k8s.io/controller-runtime"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// applicationXIDs are XID errors caused by the application rather than the GPU (the same
// list NVIDIA's device plugin ignores): they do not make a GPU unhealthy.
var applicationXIDs = map[uint64]bool{13: true, 31: true, 43: true, 45: true, 68: true, 109: true}

// xidWatcher records critical XID events per GPU UUID. A GPU stays unhealthy until the agent
// restarts, as with NVIDIA's device plugin: XIDs mean a reset or a human is needed.
type xidWatcher struct {
	mu     sync.Mutex
	health map[string]string
}

func newXIDWatcher() *xidWatcher { return &xidWatcher{health: map[string]string{}} }

// watch waits for critical XID events until ctx ends. Where NVML cannot deliver events (a
// mock, some virtualised GPUs) it says so once and returns.
func (w *xidWatcher) watch(ctx context.Context, lib nvml.Interface) {
	log := ctrl.LoggerFrom(ctx)
	set, ret := lib.EventSetCreate()
	if ret != nvml.SUCCESS {
		log.Info("GPU XID events are not available; GPU health comes from NVML errors only", "reason", ret.Error())
		return
	}
	defer func() { _ = set.Free() }()
	count, _ := lib.DeviceGetCount()
	for i := 0; i < count; i++ {
		dev, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue
		}
		if ret := dev.RegisterEvents(nvml.EventTypeXidCriticalError, set); ret != nvml.SUCCESS {
			log.Info("XID events not available for a GPU", "index", i, "reason", ret.Error())
		}
	}
	for ctx.Err() == nil {
		data, ret := set.Wait(5000)
		if ret == nvml.ERROR_TIMEOUT {
			continue
		}
		if ret != nvml.SUCCESS {
			log.Info("Stopped waiting for XID events", "reason", ret.Error())
			return
		}
		if data.EventType != nvml.EventTypeXidCriticalError || applicationXIDs[data.EventData] {
			continue
		}
		uuid, ret := data.Device.GetUUID()
		if ret != nvml.SUCCESS {
			continue
		}
		log.Info("Critical XID event: the GPU is unhealthy", "uuid", uuid, "xid", data.EventData)
		w.mu.Lock()
		w.health[uuid] = fmt.Sprintf("critical XID %d", data.EventData)
		w.mu.Unlock()
	}
}

// apply marks the GPUs that had a critical XID unhealthy.
func (w *xidWatcher) apply(gpus []doradev1.GPUInfo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range gpus {
		if h, ok := w.health[gpus[i].UUID]; ok && gpus[i].Healthy {
			gpus[i].Healthy, gpus[i].Health = false, h
		}
	}
}
