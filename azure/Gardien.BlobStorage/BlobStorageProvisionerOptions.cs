namespace Gardien.BlobStorage;

/// <summary>How <see cref="BlobStorageProvisioner"/> creates containers when a management-plane layer works beside it.</summary>
public sealed class BlobStorageProvisionerOptions
{
    /// <summary>
    /// Creates a container whose spec names an encryption scope with that scope as its default, overrides refused. Only a
    /// real account has encryption scopes (Azurite rejects them), and the scope must exist first: the Azure adapter creates it.
    /// </summary>
    public bool CreateWithEncryptionScope { get; init; }
}
