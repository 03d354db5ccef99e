// The idflow namespace for bpmn-moddle: <idflow:activity type> holding <idflow:param name>text,
// as docs/definitions.md describes it. bpmn-js keeps these in a task's extensionElements.
export const IDFLOW_NS = 'https://idflow.dev/schema/bpmn/1.0';

export const idflowModdle = {
  name: 'idflow',
  uri: IDFLOW_NS,
  prefix: 'idflow',
  xml: { tagAlias: 'lowerCase' },
  types: [
    {
      name: 'Activity',
      superClass: ['Element'],
      properties: [
        { name: 'type', isAttr: true, type: 'String' },
        { name: 'params', type: 'Param', isMany: true },
      ],
    },
    {
      name: 'Param',
      superClass: ['Element'],
      properties: [
        { name: 'name', isAttr: true, type: 'String' },
        { name: 'value', isBody: true, type: 'String' },
      ],
    },
  ],
  enumerations: [],
  associations: [],
};
