metadata name = 'Gardien monitoring'
metadata description = 'Log Analytics workspace and workspace-based Application Insights with local (key) authentication disabled.'

@description('Required. Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Optional. Azure region of the resources.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the resources.')
param tags object = {}

@description('Optional. Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 90

resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry is sent with the managed identity (Monitoring Metrics Publisher); instrumentation keys alone cannot ingest.
    DisableLocalAuth: true
  }
}

@description('The resource ID of the Log Analytics workspace.')
output logAnalyticsWorkspaceId string = workspace.id

@description('The resource ID of the Application Insights component.')
output applicationInsightsId string = applicationInsights.id

@description('The name of the Application Insights component.')
output applicationInsightsName string = applicationInsights.name

@description('The Application Insights connection string. It identifies the component but grants nothing while local authentication is disabled.')
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
