// Register our token types with micromark, as micromark-extension-directive does.
declare module 'micromark-util-types' {
  interface TokenTypeMap {
    tagText: 'tagText'
    tagTextMarker: 'tagTextMarker'
    tagTextName: 'tagTextName'
    tagTextIdMarker: 'tagTextIdMarker'
    tagTextId: 'tagTextId'
    tagFlow: 'tagFlow'
    tagFlowMarker: 'tagFlowMarker'
    tagFlowName: 'tagFlowName'
    tagFlowIdMarker: 'tagFlowIdMarker'
    tagFlowId: 'tagFlowId'
  }
}
export {}
