namespace Gardien.Cli;

/// <summary>One document to read: a file, or standard input ("-").</summary>
internal sealed record CliInput(string Argument, string? Path)
{
    public bool IsStandardInput => Path is null;

    /// <summary>How the input is named in messages and in <c>--json</c> lines.</summary>
    public string Name => Path ?? "<stdin>";
}

/// <summary>A FILE argument that cannot be read, with the reason in plain words.</summary>
internal sealed class CliInputException(string message) : Exception(message);

/// <summary>
/// The FILE arguments of <c>validate</c> and <c>plan</c> (files, directories, "-") and the opening of each, so that a
/// directory, a closed standard input or a permission problem is named as such rather than as "file not found".
/// </summary>
internal static class CliInputs
{
    /// <summary>
    /// Files in argument order, a directory replaced by its <c>*.json</c> files (all levels, in name order). The problems
    /// (a missing path, an empty directory, "-" twice) are returned beside them so that the others are still read.
    /// </summary>
    public static (List<CliInput> Inputs, List<(string Argument, string Problem)> Problems) Expand(IEnumerable<string> arguments)
    {
        var inputs = new List<CliInput>();
        var problems = new List<(string, string)>();
        var stdinSeen = false;
        foreach (var argument in arguments)
        {
            if (argument == "-")
            {
                if (stdinSeen)
                {
                    problems.Add((argument, "standard input (-) can be read only once."));
                }
                else
                {
                    stdinSeen = true;
                    inputs.Add(new CliInput(argument, null));
                }
            }
            else if (Directory.Exists(argument))
            {
                var files = Directory.EnumerateFiles(
                    argument,
                    "*.json",
                    new EnumerationOptions
                    {
                        RecurseSubdirectories = true,
                        MatchCasing = MatchCasing.CaseInsensitive,
                        IgnoreInaccessible = true,
                    })
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (files.Count == 0)
                {
                    problems.Add(
                        (
                            argument,
                            $"'{argument}' is a directory with no .json file in it. Give a maDMP file, or a directory holding some."));
                }

                inputs.AddRange(files.Select(f => new CliInput(argument, f)));
            }
            else if (IsStandardInputPath(argument))
            {
                inputs.Add(new CliInput(argument, null));
            }
            else if (!File.Exists(argument))
            {
                problems.Add(
                    (argument, $"'{argument}' does not exist. Check the path (relative paths start from {Environment.CurrentDirectory})."));
            }
            else
            {
                inputs.Add(new CliInput(argument, argument));
            }
        }

        return (inputs, problems);
    }

    /// <summary>Opens one input for reading; <see cref="CliInputException"/> says in plain words why it cannot be.</summary>
    public static Stream Open(CliInput input, Func<Stream> openStandardInput)
    {
        if (input.IsStandardInput)
        {
            return openStandardInput();
        }

        return OpenFile(input.Path!);
    }

    /// <summary>Opens a file named on the command line (a DMP, a policy...), with the reason in plain words when it cannot be.</summary>
    public static FileStream OpenFile(string path)
    {
        if (Directory.Exists(path))
        {
            throw new CliInputException($"'{path}' is a directory, not a file. Give the path of a file inside it.");
        }

        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliInputException(
                $"'{path}' does not exist. Check the path (relative paths start from {Environment.CurrentDirectory}).");
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliInputException(
                $"'{path}' cannot be read: permission denied. Check the file's permissions (ls -l), or copy it somewhere readable.");
        }
        catch (IOException ex)
        {
            throw new CliInputException($"'{path}' cannot be read: {ex.Message}");
        }
    }

    /// <summary>The process's standard input, refused with a clear reason when it is closed.</summary>
    public static Stream OpenProcessStandardInput()
    {
        if (StandardInputIsClosed())
        {
            throw new CliInputException(
                "standard input is closed, so there is nothing to read from '-'. Pipe the document in (gardien validate - < dmp.json) "
                + "or give its path.");
        }

        if (!Console.IsInputRedirected)
        {
            Console.Error.WriteLine(
                "Reading the document from standard input (the terminal); end it with Ctrl-D, or give a file path instead of '-'.");
        }

        return Console.OpenStandardInput();
    }

    private static bool IsStandardInputPath(string argument) =>
        argument is "/dev/stdin" or "/proc/self/fd/0" or "/dev/fd/0";

    /// <summary>
    /// Whether file descriptor 0 was closed when the process started. The runtime reuses the free descriptor for its own
    /// files, typically the read end of its signal pipe, and reading that would wait forever. Linux only (through
    /// /proc); elsewhere the answer is no.
    /// </summary>
    internal static bool StandardInputIsClosed()
    {
        const string fds = "/proc/self/fd";
        if (!OperatingSystem.IsLinux() || !Directory.Exists(fds))
        {
            return false;
        }

        try
        {
            var target = new FileInfo(Path.Combine(fds, "0")).LinkTarget;
            if (target is null)
            {
                return true;
            }

            if (target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".so", StringComparison.Ordinal))
            {
                return true;
            }

            if (!target.StartsWith("pipe:", StringComparison.Ordinal))
            {
                return false;
            }

            // A pipe whose other end this process holds too is the runtime's own, not a pipe from the shell.
            var ends = 0;
            foreach (var fd in Directory.EnumerateFileSystemEntries(fds))
            {
                if (new FileInfo(fd).LinkTarget == target)
                {
                    ends++;
                }
            }

            return ends > 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
