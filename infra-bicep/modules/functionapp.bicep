metadata name = 'Gardien Function App (Flex Consumption)'
metadata description = '''
Flex Consumption plan (FC1) and a Linux dotnet-isolated Function App that runs as the user-assigned identity, pulls
its package with that identity, and requires an Entra ID sign-in on the approval route (App Service Authentication);
the other API routes use function keys.
'''

@description('Required. Name of the Function App.')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Optional. Azure region of the plan and the app.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the plan and the app.')
param tags object = {}

@description('Required. Resource ID of the user-assigned managed identity the app runs as.')
param identityResourceId string

@description('Required. Blob endpoint of the host storage account (https://<account>.blob.<suffix>/).')
param hostStorageBlobEndpoint string

@description('Required. Container in the host storage account that holds the deployment package.')
param deploymentContainerName string

@description('Required. App settings (name to value). Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION here: the runtime is set in functionAppConfig.')
param appSettings object

@description('Optional. The DMP tools\' app settings (DmpTools__Tools__<name>__<key>), added to appSettings.')
param dmpToolSettings object = {}

@description('Optional. .NET isolated runtime version.')
param runtimeVersion string = '10.0'

@description('Optional. Maximum number of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Always-ready instances for the durable trigger group (orchestrations, activities, entities), so workflow steps do not wait for a cold start.')
@minValue(0)
param durableAlwaysReadyInstanceCount int = 1

@description('Optional. Resource ID of the subnet (delegated to Microsoft.App/environments) for outbound VNet integration. Empty for none.')
param virtualNetworkSubnetId string = ''

@description('Required. Client ID of the Entra ID app registration that protects the HTTP API (App Service authentication).')
param apiAuthClientId string

@description('''
Optional. Paths served without an Entra ID sign-in: the health probe (anonymous) and the API routes function keys
protect. Every other path, the approval pages /api/approvals/* above all, sends an anonymous browser to sign in.
''')
param authExcludedPaths array = [
  '/api/health'
  '/api/dmps'
  '/api/dmps/*'
  '/api/workflows/*'
]

@description('Required. Resource ID of the Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    // Key Vault references in app settings resolve with the user-assigned identity, not a system identity.
    keyVaultReferenceIdentity: identityResourceId
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: runtimeVersion
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: [
          {
            name: 'durable'
            instanceCount: durableAlwaysReadyInstanceCount
          }
        ]
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, dmpToolSettings)
}

// Basic (user/password) publishing credentials are off: deployments authenticate with Entra ID (OIDC in CI).
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource auth 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    // Deny by default: a route not listed in authExcludedPaths needs a sign-in. The approval page then checks that
    // the signed-in user is the approver (or the delegate) the signed link names.
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: authExcludedPaths
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiAuthClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${apiAuthClientId}'
            apiAuthClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
    httpSettings: {
      requireHttps: true
    }
  }
}

#disable-next-line use-recent-api-versions // newest version with categoryGroup; the only GA one (2016-09-01) predates it
resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('The resource ID of the Function App.')
output resourceId string = site.id

@description('The name of the Function App.')
output name string = site.name

@description('The default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName

@description('The resource ID of the Flex Consumption plan.')
output planResourceId string = plan.id
