package fleet

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/internal/cost"
	"mtrlz.dev/ci-infra/internal/plan"
)

// StacksOf reads the agent stacks of a plan, as CloudFormation would apply
// them: every parameter the program leaves unset takes the pinned
// template's default. overrides ("STACK.PARAM" → value) change a parameter
// of one stack, for what-ifs. It is the one reader of a plan's agent
// stacks: cmd/plan prices their cost.Stack, cmd/fleet replays builds on
// them.
func StacksOf(p *plan.Plan, version string, overrides map[string]string) ([]Stack, error) {
	contract, err := agentstack.ContractFor(version)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var out []Stack
	for _, r := range p.Find("aws:cloudformation/stack:Stack", "") {
		name, _ := r.Input("name").(string)
		raw, _ := r.Input("parameters").(map[string]any)
		get := func(key string) (string, error) {
			if v, ok := overrides[name+"."+key]; ok {
				used[name+"."+key] = true
				if err := contract.Check(key, v); err != nil {
					return "", fmt.Errorf("-set %s.%s: %w", name, key, err)
				}
				return v, nil
			}
			if v, ok := raw[key].(string); ok {
				return v, nil
			}
			param, ok := contract.Parameters[key]
			if !ok {
				return "", fmt.Errorf("the %s template has no parameter %s", version, key)
			}
			return fmt.Sprint(param.Default), nil
		}
		s := Stack{Stack: cost.Stack{Name: name}}
		var errs []string
		str := func(key string, dst *string) {
			v, err := get(key)
			if err != nil {
				errs = append(errs, err.Error())
			}
			*dst = v
		}
		num := func(key string, dst *int) {
			var v string
			str(key, &v)
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s.%s %q is not a number", name, key, v))
			}
			*dst = int(n)
		}
		flag := func(key string, dst *bool) {
			var v string
			str(key, &v)
			*dst = v == "true"
		}
		// One agent per instance: the simulator's instance runs one job,
		// and the scaler's arithmetic here divides by one.
		var perInstance int
		num("AgentsPerInstance", &perInstance)
		if perInstance != 1 {
			errs = append(errs, fmt.Sprintf("%s.AgentsPerInstance is %d: the simulator models one agent per instance", name, perInstance))
		}
		var types string
		str("BuildkiteQueue", &s.Queue)
		str("InstanceTypes", &types)
		s.InstanceTypes = strings.Split(types, ",")
		num("MinSize", &s.MinSize)
		num("MaxSize", &s.MaxSize)
		num("OnDemandPercentage", &s.OnDemandPercentage)
		num("ScaleInIdlePeriod", &s.ScaleInIdleSeconds)
		num("ScaleInCooldownPeriod", &s.ScaleInCooldown)
		num("ScaleOutCooldownPeriod", &s.ScaleOutCooldown)
		num("InstanceBuffer", &s.InstanceBuffer)
		flag("DisableScaleIn", &s.DisableScaleIn)
		flag("InstanceScaleInProtection", &s.ScaleInProtection)
		flag("ScalerEnableExperimentalElasticCIMode", &s.ElasticCIMode)
		flag("ScaleOutForWaitingJobs", &s.ScaleOutForWaitingJobs)
		str("SpotAllocationStrategy", &s.SpotAllocationStrategy)
		var factor string
		str("ScaleOutFactor", &factor)
		if f, err := strconv.ParseFloat(factor, 64); err == nil {
			s.ScaleOutFactor = f
		} else {
			errs = append(errs, fmt.Sprintf("%s.ScaleOutFactor %q is not a number", name, factor))
		}
		var scheduled bool
		flag("EnableScheduledScaling", &scheduled)
		if scheduled {
			var up, down, tz string
			sc := &Schedule{}
			str("ScaleUpSchedule", &up)
			str("ScaleDownSchedule", &down)
			str("ScheduleTimezone", &tz)
			num("ScaleUpMinSize", &sc.UpMinSize)
			num("ScaleDownMinSize", &sc.DownMinSize)
			var err error
			if sc.Up, err = agentstack.ParseCron(up, tz); err != nil {
				errs = append(errs, fmt.Sprintf("%s.ScaleUpSchedule: %v", name, err))
			}
			if sc.Down, err = agentstack.ParseCron(down, tz); err != nil {
				errs = append(errs, fmt.Sprintf("%s.ScaleDownSchedule: %v", name, err))
			}
			s.Schedule = sc
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("stack %s: %s", name, strings.Join(errs, "; "))
		}
		out = append(out, s)
	}
	var unknown []string
	for k := range overrides {
		if !used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("-set %s: no such stack, or a parameter the simulator does not read", strings.Join(unknown, ", "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
