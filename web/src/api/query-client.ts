import { QueryClient } from '@tanstack/react-query';

/** The app's one QueryClient (a module, so a route loader can prefetch into it). */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: false,
      // A 4xx will not get better by asking again (ApiError.permanent); anything else gets 2 retries.
      retry: (failureCount, error) => !(error as { permanent?: boolean }).permanent && failureCount < 2,
    },
  },
});
