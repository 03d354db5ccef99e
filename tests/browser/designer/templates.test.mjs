// `idflow templates`: the Camunda Modeler element templates generated from the catalogue
// validate against Camunda's element-templates JSON schema (npm @camunda/element-templates-json-schema,
// through @bpmn-io/element-templates-validator), and the XML each one writes when applied is
// accepted by `idflow validate` (the binding the loader reads; the Rust side applies each
// template in crates/defs/tests/templates.rs too).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { validateAll, getSchemaVersion } from '@bpmn-io/element-templates-validator';
import { BINARY } from '../lib/harness.mjs';

const templates = JSON.parse(execFileSync(BINARY, ['templates'], { encoding: 'utf8' }));

test('the element templates validate against the Camunda element-templates schema', () => {
  assert.ok(templates.length >= 18, 'one per activity');
  const { valid, errors } = validateAll(templates);
  assert.equal(valid, true, `schema ${getSchemaVersion()}: ${JSON.stringify(errors)}`);
});

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

test('each template applied as Camunda Modeler applies it gives XML that idflow validate accepts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'idflow-templates-'));
  try {
    for (const template of templates) {
      const tag = template.appliesTo[0] === 'bpmn:UserTask' ? 'userTask' : 'serviceTask';
      let properties = '';
      let inputs = '';
      for (const prop of template.properties) {
        let value = prop.value;
        if (value === undefined && prop.constraints?.notEmpty) value = `<<processvar.token.${prop.binding.name.replace(/\W/g, '')}>>`;
        if (prop.binding.type === 'camunda:property') properties += `<camunda:property name="${escape(prop.binding.name)}" value="${escape(value)}"/>`;
        else if (value !== undefined) inputs += `<camunda:inputParameter name="${escape(prop.binding.name)}">${escape(value)}</camunda:inputParameter>`;
      }
      const xml = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:${tag} id="t" camunda:modelerTemplate="${template.id}" camunda:modelerTemplateVersion="${template.version}"><bpmn:extensionElements><camunda:properties>${properties}</camunda:properties><camunda:inputOutput>${inputs}</camunda:inputOutput></bpmn:extensionElements></bpmn:${tag}>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
`;
      const file = path.join(dir, `${template.id}.bpmn`);
      writeFileSync(file, xml);
      const run = spawnSync(BINARY, ['validate', '--format', 'json', file], { encoding: 'utf8' });
      assert.equal(run.status, 0, `${template.id}: ${run.stdout}${run.stderr}`);
      assert.deepEqual(JSON.parse(run.stdout).files[0].diagnostics, [], template.id);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
