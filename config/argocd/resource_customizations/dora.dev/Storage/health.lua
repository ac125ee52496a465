-- Argo CD health check of a Dora Storage (dora.dev/v1alpha1).
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
  hs.message = "Waiting for the Dora manager to report on the storage"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to act on generation " .. obj.metadata.generation
  return hs
end

-- Stalled: the export overlaps an older Storage's; an administrator must change one.
local stalled = condition("Stalled")
if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = message(stalled, "the storage is stalled")
  return hs
end
local ready = condition("Ready")
if ready ~= nil and ready.reason == "Overlaps" then
  hs.status = "Degraded"
  hs.message = message(ready, "the export overlaps another Storage's")
  return hs
end

if isTrue(ready) then
  hs.status = "Healthy"
  hs.message = message(ready, "volumes are made on the storage")
  return hs
end

-- Being deleted, waiting for its volumes to go (reason InUse).
hs.status = "Progressing"
hs.message = message(ready, "Waiting for the storage")
return hs
