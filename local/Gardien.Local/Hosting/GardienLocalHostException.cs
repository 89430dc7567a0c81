namespace Gardien.Local.Hosting;

/// <summary>The local host cannot run as configured; the message says what is wrong and how to fix it (shown as is to the user).</summary>
public sealed class GardienLocalHostException : Exception
{
    public GardienLocalHostException()
    {
    }

    public GardienLocalHostException(string message)
        : base(message)
    {
    }

    public GardienLocalHostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
