// Loads the event catalogue (names, property paths and types, frequent
// values) once per builder page and hands it to the event, property and
// value pickers inside it; shows its loading and its failure once, where
// the page puts `EventCatalogStatus`.
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useApi, type ApiError } from "../api";
import { Loading, ProblemBox } from "../components";
import { EVENT_CATALOG_PATH, type EventCatalog } from "./eventCatalog";

export interface EventCatalogState {
  catalog: EventCatalog | undefined;
  loading: boolean;
  error: ApiError | undefined;
  /** Names known otherwise (older events, Kairos's own), offered after the catalogue's. */
  extra: readonly string[];
}

const Context = createContext<EventCatalogState | null>(null);

/** Loads the catalogue for the pickers below it; `extra` adds names the catalogue may lack. */
export function EventCatalogProvider({ extra = [], children }: { extra?: readonly string[]; children: ReactNode }) {
  const { data, loading, error } = useApi<EventCatalog>(EVENT_CATALOG_PATH);
  const value = useMemo(() => ({ catalog: data, loading, error, extra }), [data, loading, error, extra]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

/** The page's catalogue, or null on a page without a provider. */
export function useEventCatalog(): EventCatalogState | null {
  return useContext(Context);
}

/** The catalogue's loading state and failure, for the top of a builder. */
export function EventCatalogStatus() {
  const state = useEventCatalog();
  if (!state) return null;
  if (state.error) return <ProblemBox error={state.error} context="Loading the events seen (event names and properties can still be typed)" />;
  if (state.loading && !state.catalog) return <Loading what="the events seen" />;
  return null;
}
