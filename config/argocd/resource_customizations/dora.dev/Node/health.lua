-- Argo CD health check of a Dora Node (dora.dev/v1alpha1).
-- Argo CD gives a health script the object as `obj` and Lua's base and table libraries,
-- not the string library: this script uses neither string functions nor os.
local hs = {}

local function condition(t)
  if obj.status ~= nil and obj.status.conditions ~= nil then
    for _, c in ipairs(obj.status.conditions) do
      if c.type == t then
        return c
      end
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local function message(c, default)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return default
end

if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to report on the node"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to act on generation " .. obj.metadata.generation
  return hs
end

local ready = condition("Ready")
-- No agent lease yet: the dora-node-agent DaemonSet has not started on the node.
if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = message(ready, "Waiting for the node's agent to report")
  return hs
end
-- The agent stopped renewing its lease: what the node reports is out of date.
if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = message(ready, "the node's agent does not report")
  return hs
end
local gpus = condition("GPUsHealthy")
if gpus ~= nil and gpus.status == "False" then
  hs.status = "Degraded"
  hs.message = message(gpus, "a GPU is unhealthy")
  return hs
end
local nvml = condition("NVMLAvailable")
if nvml ~= nil and nvml.status == "False" then
  hs.status = "Degraded"
  hs.message = message(nvml, "NVML does not answer on the node")
  return hs
end

-- Cordoned: the node takes no new workloads until spec.schedulingDisabled is false.
if obj.spec ~= nil and obj.spec.schedulingDisabled == true then
  hs.status = "Suspended"
  hs.message = "spec.schedulingDisabled is true: no new workload lands on the node"
  return hs
end

hs.status = "Healthy"
hs.message = message(ready, "the node's agent reports")
return hs
